"""HCPCS drug lines: billing units, the JW/JZ single-dose-vial modifiers and the NDC.

Drugs are billed in multiples of the HCPCS descriptor's dose, a partial unit rounded UP
(CMS Pub. 100-04 ch. 17 §10); several unit sizes in effect are filled largest first.
Local anaesthetic and saline are not separately coded. A single-dose vial's discarded
amount decides JZ (nothing billable discarded) or a JW line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.procedures.code_tables import SEVERITY_INFO, SEVERITY_WARNING, CodeTables, HcpcsCode
from triggerpoint.procedures.drugs import DrugCatalog

DRUG_UNITS_RULE = Rule(
    id="CODE-DRUG-UNITS",
    version=1,
    title="Drug billing units",
    basis=(
        "Drugs are billed in multiples of the HCPCS descriptor's dose; a dose that is not a multiple is rounded "
        "up to the next whole unit (CMS convention). Botulinum toxin units are not interchangeable."
    ),
    sources=(
        "CMS Pub. 100-04 Medicare Claims Processing Manual ch. 17 §10",
        "CMS RAC issue 0074: https://www.cms.gov/Research-Statistics-Data-and-Systems/Monitoring-Programs/"
        "Medicare-FFS-Compliance-Programs/Recovery-Audit-Program/Approved-RAC-Topics-Items/"
        "0074-Excessive-or-Insufficient-Drugs-and-Biologicals.html",
    ),
)
DRUG_WASTE_RULE = Rule(
    id="CODE-DRUG-WASTE-JW-JZ",
    version=1,
    title="Single-dose container waste modifiers",
    basis=(
        "A drug from a single-dose container is billed with JZ when none was discarded, or with its administered "
        "units on one line and the discarded units on a second line with JW. Discarded units are those the "
        "rounded-up administered units do not already cover. The NDC goes on the drug line where recorded."
    ),
    sources=(
        "CMS, Discarded Drugs and Biologicals - JW and JZ Modifier Policy FAQs (JZ required from 2023-07-01): "
        "https://www.cms.gov/medicare/medicare-fee-for-service-payment/hospitaloutpatientpps/downloads/jw-modifier-faqs.pdf",
        "tpi-clinical-facts.md §1.3 (NDC required; JW/JZ for single-dose vials)",
    ),
)
DRUG_WASTE_MISSING_RULE = Rule(
    id="CODE-DRUG-WASTE-MISSING",
    version=1,
    title="Single-dose container without its discarded amount",
    basis="JW or JZ cannot be chosen until the note says how much of the single-dose vial was discarded (0 if none).",
    sources=DRUG_WASTE_RULE.sources,
)
DRUG_NOT_CODED_RULE = Rule(
    id="CODE-DRUG-NOT-CODED",
    version=1,
    title="Injectate not separately coded",
    basis="Local anaesthetic and saline given for trigger point injection are treated as bundled.",
    sources=("tpi-clinical-facts.md §1.3 and §9 item 11",),
)
DRUG_NO_CODE_RULE = Rule(
    id="CODE-DRUG-NO-CODE",
    version=1,
    title="Injectate without a code on the service date",
    basis="The code table has no HCPCS row for this drug on the service date; a coder must choose the code.",
    sources=("data/hcpcs.yaml",),
)
TOXIN_LABEL_RULE = Rule(
    id="CODE-TOXIN-LABEL",
    version=1,
    title="Botulinum toxin for myofascial pain",
    basis=(
        "Myofascial pain is not among the FDA-labelled indications listed in the MAC article; payers usually "
        "require prior authorization."
    ),
    sources=("tpi-clinical-facts.md §1.3 (whatismedicalinsurancebilling 2017)",),
)


@dataclass(frozen=True)
class CodingInjectate:
    """One drug given; for single-dose vials the amount discarded (same unit as the dose) and the NDC."""

    drug: str
    dose_mg: Decimal | None = None
    dose_units: Decimal | None = None
    single_dose_vial: bool | None = None
    discarded: Decimal | None = None
    ndc: str = ""


_NDC_PART_LENGTHS = (5, 4, 2)


def normalise_ndc(text: str) -> str:
    """An NDC in the 11-digit 5-4-2 billing format ("12345-6789-01").

    A 10-digit NDC (4-4-2, 5-3-2 or 5-4-1) must keep its hyphens, since the position of the
    padding zero depends on the segment that is short. Raises ValueError otherwise.
    """
    text = (text or "").strip()
    parts = text.split("-")
    if len(parts) == 1 and text.isdigit() and len(text) == 11:
        parts = [text[:5], text[5:9], text[9:]]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"NDC {text!r} must be 11 digits (5-4-2) or a hyphenated 10-digit NDC")
    if any(len(part) > size for part, size in zip(parts, _NDC_PART_LENGTHS, strict=True)) or sum(map(len, parts)) not in (10, 11):
        raise ValueError(f"NDC {text!r} has segments of the wrong length")
    return "-".join(part.zfill(size) for part, size in zip(parts, _NDC_PART_LENGTHS, strict=True))



@dataclass(frozen=True)
class HcpcsLine:
    code: str
    units: int
    drug: str
    dose: Decimal
    dose_unit: str
    billed_dose: Decimal
    description: str
    basis: str
    modifiers: tuple[str, ...] = ()
    ndc: str = ""
    rule: Rule | None = None

    def as_dict(self) -> dict[str, Any]:
        rule = self.rule or DRUG_UNITS_RULE
        return {
            "code": self.code,
            "units": self.units,
            "modifiers": list(self.modifiers),
            "ndc": self.ndc or None,
            "drug": self.drug,
            "dose": float(self.dose),
            "dose_unit": self.dose_unit,
            "billed_dose": float(self.billed_dose),
            "description": self.description,
            "rule": rule.id,
            "version": rule.version,
            "basis": self.basis,
        }



@dataclass
class _DrugTotal:
    dose: Decimal | None = Decimal(0)
    discarded: Decimal | None = Decimal(0)
    single_dose: bool | None = None
    ndcs: list[str] = field(default_factory=list)


def drug_lines(
    injectates: Iterable[CodingInjectate],
    on: date,
    drugs: DrugCatalog,
    tables: CodeTables,
    warnings: list[Finding],
) -> list[HcpcsLine]:
    totals: dict[str, _DrugTotal] = {}
    for injectate in injectates:
        dose = injectate.dose_units if injectate.dose_units is not None else injectate.dose_mg
        total = totals.setdefault(injectate.drug, _DrugTotal())
        total.dose = None if dose is None or total.dose is None else total.dose + dose
        total.discarded = (
            None if injectate.discarded is None or total.discarded is None else total.discarded + injectate.discarded
        )
        if injectate.single_dose_vial is not None:
            total.single_dose = bool(total.single_dose) or injectate.single_dose_vial
        if injectate.ndc and injectate.ndc not in total.ndcs:
            total.ndcs.append(injectate.ndc)

    lines: list[HcpcsLine] = []
    for drug_id, total in totals.items():
        drug = drugs.get(drug_id)
        if drug.drug_class in tables.not_separately_coded:
            warnings.append(
                Finding.of(
                    DRUG_NOT_CODED_RULE,
                    SEVERITY_INFO,
                    f"{drug.name}: not separately coded. {tables.not_separately_coded[drug.drug_class]}",
                    drug=drug_id,
                )
            )
            continue
        rows = tables.hcpcs_rows(drug_id, on)
        if not rows or total.dose is None:
            warnings.append(
                Finding.of(
                    DRUG_NO_CODE_RULE,
                    SEVERITY_WARNING,
                    f"{drug.name}: no HCPCS code in the table for {on.isoformat()}"
                    + ("" if total.dose is not None else " (no dose given)")
                    + "; a coder must choose the code and units.",
                    drug=drug_id,
                )
            )
            continue
        ndc = total.ndcs[0] if len(total.ndcs) == 1 else ""
        if len(total.ndcs) > 1:
            warnings.append(
                Finding.of(
                    DRUG_WASTE_RULE,
                    SEVERITY_WARNING,
                    f"{drug.name}: vials with different NDCs ({', '.join(total.ndcs)}); split the line per NDC.",
                    drug=drug_id,
                )
            )
        drug_lines = [replace(line, ndc=ndc) for line in _split_into_units(drug_id, total.dose, rows)]
        single_dose = any(row.single_dose_container for row in rows) or bool(total.single_dose)
        if single_dose:
            drug_lines = _waste_lines(drug, total, rows, drug_lines, ndc, warnings)
        lines.extend(drug_lines)
        if drug.drug_class == "botulinum_toxin":
            warnings.append(
                Finding.of(
                    TOXIN_LABEL_RULE,
                    SEVERITY_INFO,
                    f"{drug.name}: myofascial pain is not an FDA-labelled indication; check prior authorization.",
                    drug=drug_id,
                )
            )
    return lines


def _waste_lines(
    drug: Any,
    total: _DrugTotal,
    rows: tuple[HcpcsCode, ...],
    lines: list[HcpcsLine],
    ndc: str,
    warnings: list[Finding],
) -> list[HcpcsLine]:
    """JZ on the drug lines when nothing billable was discarded, else a JW line for the discarded units."""
    if total.discarded is None:
        warnings.append(
            Finding.of(
                DRUG_WASTE_MISSING_RULE,
                SEVERITY_WARNING,
                f"{drug.name} comes in single-dose vials: record the amount discarded (0 if none) to choose JW or JZ.",
                drug=drug.id,
            )
        )
        return lines
    smallest = min(rows, key=lambda row: row.unit_size)
    billed = sum((line.billed_dose for line in lines), Decimal(0))
    wasted_beyond_rounding = total.dose + total.discarded - billed
    jw_units = int((wasted_beyond_rounding / smallest.unit_size).to_integral_value(rounding=ROUND_CEILING))
    if jw_units <= 0:
        return [
            replace(line, modifiers=(*line.modifiers, "JZ"), rule=DRUG_WASTE_RULE, basis=f"JZ: no billable amount discarded. {line.basis}")
            for line in lines
        ]
    discarded_billed = smallest.unit_size * jw_units
    return [
        *lines,
        HcpcsLine(
            code=smallest.code,
            units=jw_units,
            drug=drug.id,
            dose=total.discarded,
            dose_unit=smallest.dose_unit,
            billed_dose=discarded_billed,
            description=smallest.description,
            basis=(
                f"JW: {_number(total.discarded)} {smallest.dose_unit} discarded from a single-dose vial; "
                f"{_number(wasted_beyond_rounding)} {smallest.dose_unit} beyond the administered units = {jw_units} "
                f"unit(s). {DRUG_WASTE_RULE.basis_text()}"
            ),
            modifiers=("JW",),
            ndc=ndc,
            rule=DRUG_WASTE_RULE,
        ),
    ]


def _split_into_units(drug_id: str, dose: Decimal, rows: tuple[HcpcsCode, ...]) -> list[HcpcsLine]:
    """Billing lines for one drug's session total.

    With one code (the usual case) units = dose / unit size rounded up. When
    several unit sizes are in effect (methylprednisolone before 2024-04-01:
    J1040 80 mg, J1030 40 mg, J1020 20 mg) whole larger units are taken first
    and only the remainder is rounded up with the smallest code.
    """
    by_size = sorted(rows, key=lambda row: row.unit_size, reverse=True)
    remaining = dose
    lines: list[HcpcsLine] = []
    for position, row in enumerate(by_size):
        is_smallest = position == len(by_size) - 1
        rounding = ROUND_CEILING if is_smallest else ROUND_FLOOR
        units = int((remaining / row.unit_size).to_integral_value(rounding=rounding))
        if units <= 0:
            continue
        billed = row.unit_size * units
        billed_part = min(billed, remaining)
        remaining -= billed_part
        rounded_note = " (partial unit rounded up)" if billed > billed_part else ""
        note = f" {row.note}" if row.note else ""
        lines.append(
            HcpcsLine(
                code=row.code,
                units=units,
                drug=drug_id,
                dose=billed_part,
                dose_unit=row.dose_unit,
                billed_dose=billed,
                description=row.description,
                basis=(
                    f"{_number(billed_part)} {row.dose_unit} / {_number(row.unit_size)} {row.dose_unit} per unit = "
                    f"{units} unit(s){rounded_note}.{note} {DRUG_UNITS_RULE.basis_text()}"
                ),
            )
        )
    return lines


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"

