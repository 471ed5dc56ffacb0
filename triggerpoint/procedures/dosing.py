"""Dose safety check for one procedure's injectates.

Decides whether the local anaesthetic given in one session stays within the
adult maximum single dose, and reports the corticosteroid (mg) and botulinum
toxin (units) totals that go into the note and the steroid-exposure history.

How it decides:

* total mg = concentration (mg/mL; 1 % = 10 mg/mL) x volume; rows of the same
  drug (and the same epinephrine status) add up;
* maximum = min(mg/kg x weight, absolute cap) from ``data/local_anesthetic_max_doses.yaml``;
* local anaesthetics are additive in toxicity, so their fractions of maximum add
  up; a combined fraction above 1 is over, as is any single drug above its maximum;
* the weight must be recent (``DosingPolicy.weight_max_age_days``); without a
  recent weight no maximum can be computed and the check asks for one.

Botulinum toxins (per product, never converted), corticosteroids (in
triamcinolone-equivalent mg) and magnesium sulfate are checked by `exposure`,
which also reads the patient's earlier signed doses (`history`).

Anything over (severity ``block``) or needing review (``review``) makes ``ok``
false and stops signing unless a physician overrides with a reason (the service
stores the override). Numbers are computed in `Decimal` from the
values as written, compared unrounded, and rounded only for display: mg and
units to 0.1, fractions to 3 decimals (half up).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.procedures import exposure
from triggerpoint.procedures.dose_result import (
    FRACTION_QUANTUM,
    DoseCheckResult,
    DoseItem,
    _display,
)
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs
from triggerpoint.procedures.exposure import InjectateLimits, PriorDose
from triggerpoint.procedures.max_doses import (
    MAX_DOSE_SOURCE,
    MaxDose,
    MaxDoseTable,
    build_max_dose_table,
    load_max_doses,
)
from triggerpoint.procedures.max_doses import as_decimal as _decimal

__all__ = [
    "RULES",
    "DoseCheckInput",
    "DoseCheckResult",
    "DoseInjectate",
    "DoseItem",
    "DosingPolicy",
    "MaxDose",
    "MaxDoseTable",
    "build_max_dose_table",
    "check_doses",
    "load_max_doses",
]

MG_PER_ML_PER_PERCENT = Decimal(10)  # 1 % w/v = 1 g/100 mL = 10 mg/mL
SEVERITY_INFO = "info"
SEVERITY_REVIEW = "review"
SEVERITY_BLOCK = "block"
# Severities that stop signing until a physician overrides with a reason.
SIGNING_SEVERITIES = frozenset({SEVERITY_REVIEW, SEVERITY_BLOCK})

LA_MAX_RULE = Rule(
    id="DOSE-LA-MAX",
    version=1,
    title="Local anaesthetic within its maximum single dose",
    basis=(
        "Each local anaesthetic must stay within min(mg/kg x weight, absolute cap) for an adult single "
        "infiltration; epinephrine raises the limit where the table has a row for it. Published maxima are "
        "not evidence-based; lower them for frailty, old age, pregnancy and liver or heart disease."
    ),
    sources=(MAX_DOSE_SOURCE, "Rosenberg 2004, maximum recommended doses of local anesthetics"),
)
LA_COMBINED_RULE = Rule(
    id="DOSE-LA-COMBINED",
    version=1,
    title="Combined local anaesthetics within one maximum",
    basis=(
        "Local anaesthetic toxicity is additive, so each agent's dose is taken as a fraction of its own "
        "maximum and the fractions are summed; a sum above 1 is over the maximum."
    ),
    sources=(MAX_DOSE_SOURCE, "Rosenberg 2004, maximum recommended doses of local anesthetics"),
)
WEIGHT_RULE = Rule(
    id="DOSE-WEIGHT-RECENT",
    version=1,
    title="A recent body weight for weight-based maxima",
    basis=(
        "Maximum local anaesthetic doses are weight-based (mg/kg), so a recent measured weight is needed; "
        "an old weight can overstate the safe dose after weight loss."
    ),
    sources=(MAX_DOSE_SOURCE,),
)
LA_NO_MAX_RULE = Rule(
    id="DOSE-LA-NO-MAX",
    version=1,
    title="Local anaesthetic without a maximum on file",
    basis="The clinic's maximum-dose table has no row for this agent, so its dose cannot be checked.",
    sources=(MAX_DOSE_SOURCE,),
)
STEROID_TOTAL_RULE = Rule(
    id="DOSE-STEROID-TOTAL",
    version=2,
    title="Corticosteroid given this session",
    basis=(
        "Each corticosteroid's mg this session, with its triamcinolone equivalent; the session and 12-month "
        "totals are checked by DOSE-STEROID-SESSION and DOSE-STEROID-12M."
    ),
    sources=("tpi-clinical-facts.md §2.4 (Benzon 2024 multisociety guideline; HPA suppression data)",),
)
TOXIN_TOTAL_RULE = Rule(
    id="DOSE-TOXIN-TOTAL",
    version=2,
    title="Botulinum toxin given this session",
    basis=(
        "Botulinum toxin units are product-specific and not interchangeable, so totals are reported per "
        "product; the product maxima and the 12-week interval are checked by DOSE-TOXIN-MAX and DOSE-TOXIN-INTERVAL."
    ),
    sources=("tpi-clinical-facts.md §1.3 (J0585-J0588), §2.5",),
)
RULES = (LA_MAX_RULE, LA_COMBINED_RULE, WEIGHT_RULE, LA_NO_MAX_RULE, STEROID_TOTAL_RULE, TOXIN_TOTAL_RULE)


@dataclass(frozen=True)
class DosingPolicy:
    """Thresholds of the dose check; a clinic may pass its own instance.

    `require_weight_date`: when true an undated weight counts as missing (use
    it when checking a stored note); when false a weight given without a date
    is taken as measured on the day of the check (a calculator use) and said so.
    """

    weight_max_age_days: int = 90
    require_weight_date: bool = False
    single_agent_fraction_limit: Decimal = Decimal(1)
    combined_fraction_limit: Decimal = Decimal(1)


DEFAULT_DOSING_POLICY = DosingPolicy()


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class DoseInjectate:
    """One syringe/row of the note: a drug, its concentration and the volume given."""

    drug: str
    volume_ml: Decimal
    concentration_mg_per_ml: Decimal | None = None
    concentration_units_per_ml: Decimal | None = None
    with_epinephrine: bool = False


@dataclass(frozen=True)
class DoseCheckInput:
    weight_kg: Decimal | None
    injectates: tuple[DoseInjectate, ...]
    weight_measured_on: date | None = None


# ---------------------------------------------------------------------------------------------
# The check


def check_doses(
    inp: DoseCheckInput,
    weight_measured_on: date | None = None,
    today: date | None = None,
    policy: DosingPolicy = DEFAULT_DOSING_POLICY,
    drugs: DrugCatalog | None = None,
    max_doses: MaxDoseTable | None = None,
    history: tuple[PriorDose, ...] = (),
    limits: InjectateLimits | None = None,
    procedure_date: date | None = None,
) -> DoseCheckResult:
    """Check one session's injectates against the maximum-dose table and the other injectates' limits.

    `weight_measured_on` (or ``inp.weight_measured_on``) dates the weight;
    `today` should be the clinic-local procedure date (defaults to today in UTC);
    `history` holds the patient's doses from other signed notes (toxin interval and
    window, 12-month steroid total), counted back from `procedure_date` (default `today`;
    they differ when a note is written up after a later weighing).
    """
    drugs = drugs or load_drugs()
    max_doses = max_doses or load_max_doses()
    limits = limits or exposure.load_limits()
    today = today or datetime.now(UTC).date()
    measured_on = weight_measured_on or inp.weight_measured_on
    findings: list[Finding] = []

    totals = _sum_by_drug(inp.injectates)
    has_local_anesthetic = any(drugs.get(drug_id).is_local_anesthetic for drug_id, _ in totals)
    weight = _usable_weight(inp.weight_kg, measured_on, today, policy, has_local_anesthetic, findings)

    items: list[DoseItem] = []
    combined = Decimal(0)
    combined_known = True
    local_anesthetic_items = 0
    steroid_totals: dict[str, Decimal] = {}
    toxin_totals: dict[str, Decimal] = {}
    magnesium_total: Decimal | None = None
    for (drug_id, with_epinephrine), (volume_ml, total_mg, total_units) in totals.items():
        drug = drugs.get(drug_id)
        max_mg = fraction = None
        max_basis = ""
        if drug.is_local_anesthetic:
            local_anesthetic_items += 1
            row = max_doses.row(drug_id, with_epinephrine)
            if row is None:
                combined_known = False
                findings.append(
                    Finding.of(
                        LA_NO_MAX_RULE,
                        SEVERITY_BLOCK,
                        f"No maximum dose on file for {drug.name}"
                        f"{' with epinephrine' if with_epinephrine else ''}; the dose cannot be checked.",
                        drug=drug_id,
                    )
                )
            elif weight is None:
                combined_known = False
                max_basis = row.describe()
            else:
                max_mg = row.max_mg(weight)
                fraction = total_mg / max_mg
                combined += fraction
                max_basis = _max_basis(row, weight)
                if fraction > policy.single_agent_fraction_limit:
                    findings.append(
                        Finding.of(
                            LA_MAX_RULE,
                            SEVERITY_BLOCK,
                            f"{drug.name} {_display(total_mg)} mg is over its maximum of {_display(max_mg)} mg "
                            f"({max_basis}).",
                            drug=drug_id,
                            total_mg=float(total_mg),
                            max_mg=float(max_mg),
                        )
                    )
        elif drug.drug_class == "corticosteroid":
            steroid_totals[drug_id] = steroid_totals.get(drug_id, Decimal(0)) + total_mg
        elif drug.drug_class == "botulinum_toxin":
            toxin_totals[drug_id] = toxin_totals.get(drug_id, Decimal(0)) + total_units
        elif drug_id == limits.magnesium_drug:
            magnesium_total = (magnesium_total or Decimal(0)) + total_mg
        items.append(
            DoseItem(
                drug=drug_id,
                drug_class=drug.drug_class,
                with_epinephrine=with_epinephrine,
                volume_ml=volume_ml,
                total_mg=total_mg,
                total_units=total_units,
                max_mg=max_mg,
                fraction_of_max=fraction,
                max_basis=max_basis,
            )
        )

    exposed = exposure.check_exposure(
        today=procedure_date or today,
        steroid_mg=steroid_totals,
        toxin_units=toxin_totals,
        magnesium_mg=magnesium_total,
        history=history,
        limits=limits,
        drugs=drugs,
    )
    items = [_with_limits(item, limits, exposed) for item in items]
    combined_fraction = combined if combined_known else None
    if combined_known and local_anesthetic_items > 1 and combined > policy.combined_fraction_limit:
        findings.append(
            Finding.of(
                LA_COMBINED_RULE,
                SEVERITY_BLOCK,
                f"The local anaesthetics together reach {_display(combined, FRACTION_QUANTUM)} of the maximum "
                f"(limit {policy.combined_fraction_limit}).",
                combined_fraction=float(combined),
            )
        )
    for drug_id, total in steroid_totals.items():
        equivalent = exposed.triamcinolone_equivalent_mg_by_drug[drug_id]
        same = drug_id == limits.steroid_reference_drug
        findings.append(
            Finding.of(
                STEROID_TOTAL_RULE,
                SEVERITY_INFO,
                f"{drugs.get(drug_id).name}: {_display(total)} mg this session"
                + ("." if same else f" (= {_display(equivalent)} mg triamcinolone-equivalent)."),
                drug=drug_id,
            )
        )
    for drug_id, total in toxin_totals.items():
        findings.append(
            Finding.of(
                TOXIN_TOTAL_RULE,
                SEVERITY_INFO,
                f"{drugs.get(drug_id).name}: {_display(total)} units this session.",
                drug=drug_id,
            )
        )

    findings.extend(exposed.findings)
    blocks_signing = any(finding.severity in SIGNING_SEVERITIES for finding in findings)
    return DoseCheckResult(
        ok=not blocks_signing,
        blocks_signing=blocks_signing,
        items=tuple(items),
        combined_local_anesthetic_fraction=combined_fraction,
        findings=tuple(findings),
        weight_kg=inp.weight_kg,
        weight_measured_on=measured_on,
        corticosteroid_totals_mg=steroid_totals,
        botulinum_toxin_totals_units=toxin_totals,
        exposure=exposed,
        rules=RULES + exposure.rules(limits),
    )


def _with_limits(item: DoseItem, limits: InjectateLimits, exposed: exposure.ExposureResult) -> DoseItem:
    """Add the per-session limit (toxin units, magnesium mg) and the steroid equivalent to one item."""
    if item.drug_class == "botulinum_toxin" and item.total_units is not None:
        row = limits.toxins[item.drug]
        window = f"in any {row.window_days} days" if row.window_days else "per session"
        return replace(item, max_units=row.max_units, max_basis=f"{_display(row.max_units)} units {window} (label)")
    if item.drug == limits.magnesium_drug and item.total_mg is not None:
        cap = limits.magnesium_review_above_mg
        return replace(
            item,
            max_mg=cap,
            fraction_of_max=item.total_mg / cap,
            max_basis=f"review above {_display(cap)} mg per session",
        )
    if item.drug in exposed.triamcinolone_equivalent_mg_by_drug:
        return replace(item, triamcinolone_equivalent_mg=exposed.triamcinolone_equivalent_mg_by_drug[item.drug])
    return item


def _sum_by_drug(
    injectates: tuple[DoseInjectate, ...],
) -> dict[tuple[str, bool], tuple[Decimal, Decimal | None, Decimal | None]]:
    """Volume, mg and units per (drug, epinephrine), in first-seen order.

    Plain and epinephrine-containing rows of one drug have different maxima,
    so they stay separate items and meet in the combined fraction.
    """
    totals: dict[tuple[str, bool], tuple[Decimal, Decimal | None, Decimal | None]] = {}
    for injectate in injectates:
        key = (injectate.drug, injectate.with_epinephrine)
        volume = _decimal(injectate.volume_ml)
        mg = (
            None
            if injectate.concentration_mg_per_ml is None
            else _decimal(injectate.concentration_mg_per_ml) * volume
        )
        units = (
            None
            if injectate.concentration_units_per_ml is None
            else _decimal(injectate.concentration_units_per_ml) * volume
        )
        if key in totals:
            old_volume, old_mg, old_units = totals[key]
            volume += old_volume
            mg = _add(old_mg, mg)
            units = _add(old_units, units)
        totals[key] = (volume, mg, units)
    return totals


def _add(left: Decimal | None, right: Decimal | None) -> Decimal | None:
    """Sum of two amounts; unknown when either row lacks it (e.g. saline without a concentration)."""
    if left is None or right is None:
        return None
    return left + right


def _usable_weight(
    weight_kg: Decimal | None,
    measured_on: date | None,
    today: date,
    policy: DosingPolicy,
    needed: bool,
    findings: list[Finding],
) -> Decimal | None:
    """The weight to use, or None after adding the finding that asks for a new one."""
    if measured_on is not None and measured_on > today:
        raise RuleInputError(
            f"weight_measured_on {measured_on.isoformat()} is after the check date {today.isoformat()}"
        )
    severity = SEVERITY_BLOCK if needed else SEVERITY_INFO
    if weight_kg is None:
        if needed:
            findings.append(
                Finding.of(
                    WEIGHT_RULE,
                    severity,
                    "No weight on file: weigh the patient to check the local anaesthetic dose.",
                )
            )
        return None
    if measured_on is None:
        if policy.require_weight_date:
            findings.append(
                Finding.of(
                    WEIGHT_RULE,
                    severity,
                    "The weight has no measurement date: weigh the patient "
                    "to check the local anaesthetic dose.",
                )
            )
            return None
        findings.append(
            Finding.of(
                WEIGHT_RULE,
                SEVERITY_INFO,
                f"Weight {_display(_decimal(weight_kg))} kg taken as measured today (no date given).",
            )
        )
        return _decimal(weight_kg)
    age_days = (today - measured_on).days
    if age_days > policy.weight_max_age_days:
        findings.append(
            Finding.of(
                WEIGHT_RULE,
                severity,
                f"The weight was measured {age_days} days ago (limit {policy.weight_max_age_days}): weigh the "
                "patient again to check the local anaesthetic dose.",
                age_days=age_days,
                max_age_days=policy.weight_max_age_days,
            )
        )
        return None
    return _decimal(weight_kg)


def _max_basis(row: MaxDose, weight: Decimal) -> str:
    if row.mg_per_kg is None:
        return f"{row.describe()}; no weight-based limit on file"
    by_weight = row.mg_per_kg * weight
    limited_by = "weight" if by_weight <= row.absolute_max_mg else "absolute cap"
    return (
        f"{row.describe()}; {row.mg_per_kg} mg/kg x {_display(weight)} kg = {_display(by_weight)} mg; "
        f"limited by {limited_by}"
    )
