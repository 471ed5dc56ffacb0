"""The coder's tables: CPT and HCPCS codes, payer policies and diagnosis flags, with effective dates.

Data, not code (``data/cpt.yaml``, ``data/hcpcs.yaml``, ``data/payers.yaml``,
``data/diagnosis_flags.yaml``), each schema-validated and checked here against the
drug catalogue and for overlapping dates; the row in effect on the service date is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from triggerpoint.core.rules import Rule
from triggerpoint.procedures._data import DataFileError, load_validated_yaml
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs

# Severities of the coder's findings (warnings never change the codes).
SEVERITY_INFO = "info"
SEVERITY_WARNING = "warning"

@dataclass(frozen=True)
class Effective:
    effective_from: date | None
    effective_to: date | None

    def in_effect(self, on: date) -> bool:
        starts_ok = self.effective_from is None or self.effective_from <= on
        ends_ok = self.effective_to is None or on <= self.effective_to
        return starts_ok and ends_ok


@dataclass(frozen=True)
class CptCode:
    code: str
    family: str
    description: str
    min_muscles: int | None
    max_muscles: int | None
    units_per_session: int
    effective: Effective
    sources: tuple[str, ...]

    def covers(self, muscle_count: int) -> bool:
        low = self.min_muscles or 0
        return muscle_count >= low and (self.max_muscles is None or muscle_count <= self.max_muscles)


@dataclass(frozen=True)
class HcpcsCode:
    code: str
    drug: str
    description: str
    unit_size: Decimal
    dose_unit: str
    effective: Effective
    sources: tuple[str, ...]
    note: str = ""
    # True: the drug comes only in single-dose containers (JW/JZ always apply); None: it depends on
    # the vial used, which the note records per injectate.
    single_dose_container: bool | None = None


@dataclass(frozen=True)
class PayerPolicy:
    """One payer's coverage parameters; None means the payer sets no such limit."""

    id: str
    name: str
    max_sessions_per_12_months: int | None
    max_sessions_per_region_per_12_months: int | None
    min_days_between_sessions_same_region: int | None
    multiple_regions_per_session_covered: bool
    dry_needling_covered: bool
    imaging_guidance_covered: bool
    saline_only_covered: bool
    covered_injectate_classes: frozenset[str] | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DiagnosisFlag:
    id: str
    match: str
    code: str
    rule: Rule
    effective: Effective
    message: str

    def matches(self, diagnosis: str, on: date) -> bool:
        if not self.effective.in_effect(on):
            return False
        if self.match == "exact":
            return diagnosis == self.code
        return diagnosis.startswith(self.code)


@dataclass(frozen=True, eq=False)
class CodeTables:
    cpt: tuple[CptCode, ...]
    hcpcs: tuple[HcpcsCode, ...]
    not_separately_coded: dict[str, str]
    payers: dict[str, PayerPolicy]
    default_payer: str | None
    diagnosis_flags: tuple[DiagnosisFlag, ...]

    def cpt_rows(self, family: str, on: date) -> tuple[CptCode, ...]:
        return tuple(row for row in self.cpt if row.family == family and row.effective.in_effect(on))

    def hcpcs_rows(self, drug: str, on: date) -> tuple[HcpcsCode, ...]:
        return tuple(row for row in self.hcpcs if row.drug == drug and row.effective.in_effect(on))


def _date_or_none(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _effective(entry: Mapping[str, Any]) -> Effective:
    return Effective(_date_or_none(entry["effective_from"]), _date_or_none(entry["effective_to"]))


def build_code_tables(
    cpt_document: Mapping[str, Any],
    hcpcs_document: Mapping[str, Any],
    payers_document: Mapping[str, Any],
    diagnosis_document: Mapping[str, Any],
    drugs: DrugCatalog,
) -> CodeTables:
    """Build the tables from schema-valid documents, checking ids and overlaps."""
    problems: list[str] = []
    cpt = tuple(
        CptCode(
            code=row["code"],
            family=row["family"],
            description=row["description"],
            min_muscles=row["min_muscles"],
            max_muscles=row["max_muscles"],
            units_per_session=row["units_per_session"],
            effective=_effective(row),
            sources=tuple(row["sources"]),
        )
        for row in cpt_document["codes"]
    )
    hcpcs = tuple(
        HcpcsCode(
            code=row["code"],
            drug=row["drug"],
            description=row["description"],
            unit_size=Decimal(str(row["unit_size"])),
            dose_unit=row["dose_unit"],
            effective=_effective(row),
            sources=tuple(row["sources"]),
            note=row.get("note", ""),
            single_dose_container=row.get("single_dose_container"),
        )
        for row in hcpcs_document["codes"]
    )
    for row in hcpcs:
        if row.drug not in drugs.drugs:
            problems.append(f"hcpcs.yaml: {row.code} names unknown drug {row.drug!r}")
            continue
        expected_unit = "units" if drugs.get(row.drug).drug_class == "botulinum_toxin" else "mg"
        if row.dose_unit != expected_unit:
            problems.append(f"hcpcs.yaml: {row.code} dose_unit must be {expected_unit!r}")
    for row in (*cpt, *hcpcs):
        start, end = row.effective.effective_from, row.effective.effective_to
        if start and end and start > end:
            problems.append(f"{row.code}: effective_from after effective_to")
    payers = {
        row["id"]: PayerPolicy(
            id=row["id"],
            name=row["name"],
            max_sessions_per_12_months=row["max_sessions_per_12_months"],
            max_sessions_per_region_per_12_months=row["max_sessions_per_region_per_12_months"],
            min_days_between_sessions_same_region=row["min_days_between_sessions_same_region"],
            multiple_regions_per_session_covered=row["multiple_regions_per_session_covered"],
            dry_needling_covered=row["dry_needling_covered"],
            imaging_guidance_covered=row["imaging_guidance_covered"],
            saline_only_covered=row["saline_only_covered"],
            covered_injectate_classes=(
                None
                if row["covered_injectate_classes"] is None
                else frozenset(row["covered_injectate_classes"])
            ),
            sources=tuple(row["sources"]),
        )
        for row in payers_document["payers"]
    }
    default_payer = payers_document["default_payer"]
    if default_payer is not None and default_payer not in payers:
        problems.append(f"payers.yaml: default_payer {default_payer!r} is not a payer id")
    flags = tuple(
        DiagnosisFlag(
            id=row["id"],
            match=row["match"],
            code=row["code"],
            rule=Rule(
                id=row["rule"],
                version=1,
                title=f"Diagnosis {row['code']}",
                basis=row["message"],
                sources=tuple(row["sources"]),
            ),
            effective=_effective(row),
            message=row["message"],
        )
        for row in diagnosis_document["flags"]
    )
    if problems:
        raise DataFileError("; ".join(problems))
    return CodeTables(
        cpt=cpt,
        hcpcs=hcpcs,
        not_separately_coded={
            row["drug_class"]: row["reason"] for row in hcpcs_document["not_separately_coded"]
        },
        payers=payers,
        default_payer=default_payer,
        diagnosis_flags=flags,
    )


@cache
def load_code_tables() -> CodeTables:
    """The shipped code and payer tables, schema-validated and cached."""
    return build_code_tables(
        load_validated_yaml("cpt.yaml", "cpt.schema.json"),
        load_validated_yaml("hcpcs.yaml", "hcpcs.schema.json"),
        load_validated_yaml("payers.yaml", "payers.schema.json"),
        load_validated_yaml("diagnosis_flags.yaml", "diagnosis_flags.schema.json"),
        load_drugs(),
    )

