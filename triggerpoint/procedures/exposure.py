"""Limits for botulinum toxins, corticosteroids and magnesium sulfate, across one session and the patient's history.

Local anaesthetics are checked against their weight-based maxima in `dosing`; the
other injectates have different kinds of limits, kept here so each has one place:

* **Botulinum toxin** units belong to one product and are never converted between
  products. Each product has its own ceiling over a window (onabotulinumtoxinA: 400
  units in any 3 months, so this session plus the same product in the 90 days
  before). Any toxin within 12 weeks (84 days) of the last toxin is a second dose
  too soon. Both block signing unless a physician overrides with a reason.
* **Corticosteroids** are added up in one unit, triamcinolone-equivalent mg, using
  the equivalence table; a session above the review threshold needs a physician's
  review (an override with a reason). The 12-month total (this session plus signed
  notes in the 365 days before) is reported; no published ceiling exists for it.
* **Magnesium sulfate** total in mg; above the review threshold needs review.

All thresholds live in ``data/injectate_limits.yaml`` (schema-validated). Pure
module: the patient's history comes in as `PriorDose` rows (see `selectors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from triggerpoint.catalogues.drugs import DrugCatalog, load_drugs
from triggerpoint.core.rules import Finding, Rule
from triggerpoint.procedures._data import DataFileError, load_validated_yaml

SEVERITY_INFO = "info"
SEVERITY_REVIEW = "review"
SEVERITY_BLOCK = "block"

LIMITS_FILE = "data/injectate_limits.yaml"


@dataclass(frozen=True)
class ToxinLimit:
    drug: str
    max_units: Decimal
    window_days: int
    sources: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class SteroidEquivalent:
    drug: str
    equivalent_dose_mg: Decimal
    sources: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, eq=False)
class InjectateLimits:
    toxin_min_days_between_sessions: int
    toxin_interval_sources: tuple[str, ...]
    toxins: dict[str, ToxinLimit]
    steroid_reference_drug: str
    steroid_session_review_above_tae_mg: Decimal
    steroid_session_sources: tuple[str, ...]
    steroid_session_note: str
    steroid_window_days: int
    steroid_equivalents: dict[str, SteroidEquivalent]
    magnesium_drug: str
    magnesium_review_above_mg: Decimal
    magnesium_sources: tuple[str, ...]
    magnesium_note: str

    def triamcinolone_equivalent_mg(self, drug: str, mg: Decimal) -> Decimal:
        """mg of `drug` as triamcinolone-equivalent mg (KeyError for a steroid without a row)."""
        reference = self.steroid_equivalents[self.steroid_reference_drug].equivalent_dose_mg
        return mg * reference / self.steroid_equivalents[drug].equivalent_dose_mg


def _decimal(value: int | float) -> Decimal:
    return Decimal(str(value))


def build_limits(document: Mapping[str, Any], drugs: DrugCatalog) -> InjectateLimits:
    """Build the limits from a schema-valid document; every toxin and steroid in the catalogue needs a row."""
    problems: list[str] = []

    def known(drug_id: str, drug_class: str) -> None:
        drug = drugs.resolve(drug_id)
        if drug is None or drug.id != drug_id:
            problems.append(f"unknown drug id {drug_id!r}")
        elif drug.drug_class != drug_class:
            problems.append(f"{drug_id!r} is not a {drug_class}")

    toxin_doc = document["botulinum_toxins"]
    toxins: dict[str, ToxinLimit] = {}
    for row in toxin_doc["products"]:
        known(row["drug"], "botulinum_toxin")
        if row["drug"] in toxins:
            problems.append(f"duplicate toxin row {row['drug']!r}")
        toxins[row["drug"]] = ToxinLimit(
            drug=row["drug"],
            max_units=_decimal(row["max_units"]),
            window_days=row["window_days"],
            sources=tuple(row["sources"]),
            note=row.get("note", ""),
        )
    steroid_doc = document["corticosteroids"]
    equivalents: dict[str, SteroidEquivalent] = {}
    for row in steroid_doc["equivalents"]:
        known(row["drug"], "corticosteroid")
        if row["drug"] in equivalents:
            problems.append(f"duplicate steroid row {row['drug']!r}")
        equivalents[row["drug"]] = SteroidEquivalent(
            drug=row["drug"],
            equivalent_dose_mg=_decimal(row["equivalent_dose_mg"]),
            sources=tuple(row["sources"]),
            note=row.get("note", ""),
        )
    for drug_id in drugs.ids_of_class("botulinum_toxin"):
        if drug_id not in toxins:
            problems.append(f"toxin {drug_id!r} has no limit row")
    for drug_id in drugs.ids_of_class("corticosteroid"):
        if drug_id not in equivalents:
            problems.append(f"corticosteroid {drug_id!r} has no equivalence row")
    if steroid_doc["reference_drug"] not in equivalents:
        problems.append("the reference corticosteroid needs its own equivalence row")
    magnesium_doc = document["magnesium"]
    known(magnesium_doc["drug"], "magnesium")
    if problems:
        raise DataFileError("injectate_limits.yaml: " + "; ".join(problems))
    return InjectateLimits(
        toxin_min_days_between_sessions=toxin_doc["min_days_between_sessions"],
        toxin_interval_sources=tuple(toxin_doc["interval_sources"]),
        toxins=toxins,
        steroid_reference_drug=steroid_doc["reference_drug"],
        steroid_session_review_above_tae_mg=_decimal(steroid_doc["session_review_above_tae_mg"]),
        steroid_session_sources=tuple(steroid_doc["session_review_sources"]),
        steroid_session_note=steroid_doc.get("session_review_note", ""),
        steroid_window_days=steroid_doc["cumulative_window_days"],
        steroid_equivalents=equivalents,
        magnesium_drug=magnesium_doc["drug"],
        magnesium_review_above_mg=_decimal(magnesium_doc["session_review_above_mg"]),
        magnesium_sources=tuple(magnesium_doc["sources"]),
        magnesium_note=magnesium_doc.get("note", ""),
    )


@cache
def load_limits() -> InjectateLimits:
    """The shipped limits, schema-validated and cached."""
    document = load_validated_yaml("injectate_limits.yaml", "injectate_limits.schema.json")
    return build_limits(document, load_drugs())


# ---------------------------------------------------------------------------------------------
# Rules (their bases quote the thresholds of the table in use)


def toxin_max_rule(limits: InjectateLimits) -> Rule:
    products = "; ".join(
        f"{row.drug} {_display(row.max_units)} units "
        + (f"in any {row.window_days} days" if row.window_days else "per session")
        for row in limits.toxins.values()
    )
    return Rule(
        id="DOSE-TOXIN-MAX",
        version=1,
        title="Botulinum toxin within the product's labelled maximum",
        basis=(
            "Units are specific to each toxin product and are never converted between products; each product is "
            f"held to its own labelled maximum ({products}). Doses from the patient's signed notes in the window count."
        ),
        sources=(LIMITS_FILE, *(source for row in limits.toxins.values() for source in row.sources[:1])),
    )


def toxin_interval_rule(limits: InjectateLimits) -> Rule:
    days = limits.toxin_min_days_between_sessions
    return Rule(
        id="DOSE-TOXIN-INTERVAL",
        version=1,
        title="Botulinum toxin not repeated too soon",
        basis=(
            f"Toxin labels advise re-treatment no sooner than {days // 7} weeks ({days} days) after the last dose; "
            "the last dose of any toxin is read from the patient's signed notes."
        ),
        sources=(LIMITS_FILE, *limits.toxin_interval_sources),
    )


def steroid_session_rule(limits: InjectateLimits) -> Rule:
    return Rule(
        id="DOSE-STEROID-SESSION",
        version=1,
        title="Corticosteroid in one session within the review threshold",
        basis=(
            "Corticosteroids are added up as triamcinolone-equivalent mg; above "
            f"{_display(limits.steroid_session_review_above_tae_mg)} mg in one session a physician reviews the dose "
            f"and records a reason. {limits.steroid_session_note}".strip()
        ),
        sources=(LIMITS_FILE, *limits.steroid_session_sources),
    )


def steroid_cumulative_rule(limits: InjectateLimits) -> Rule:
    return Rule(
        id="DOSE-STEROID-12M",
        version=1,
        title="Corticosteroid over the last 12 months",
        basis=(
            f"Triamcinolone-equivalent mg over {limits.steroid_window_days} days (this session and the patient's "
            "signed notes) for the cumulative steroid history; glucose, bone density and adrenal suppression follow "
            "exposure. No published cumulative ceiling for trigger point injection exists, so no limit is applied."
        ),
        sources=(
            LIMITS_FILE,
            "tpi-clinical-facts.md §2.4 (Benzon 2024 multisociety guideline; HPA suppression data; ceiling [GAP])",
            *(source for row in limits.steroid_equivalents.values() for source in row.sources[:1]),
        ),
    )


def magnesium_rule(limits: InjectateLimits) -> Rule:
    return Rule(
        id="DOSE-MG-MAX",
        version=1,
        title="Magnesium sulfate within the review threshold",
        basis=(
            f"Magnesium sulfate above {_display(limits.magnesium_review_above_mg)} mg in one session needs a "
            f"physician's review and a reason. {limits.magnesium_note}".strip()
        ),
        sources=(LIMITS_FILE, *limits.magnesium_sources),
    )


def rules(limits: InjectateLimits | None = None) -> tuple[Rule, ...]:
    limits = limits or load_limits()
    return (
        toxin_max_rule(limits),
        toxin_interval_rule(limits),
        steroid_session_rule(limits),
        steroid_cumulative_rule(limits),
        magnesium_rule(limits),
    )


# ---------------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class PriorDose:
    """One drug given in an earlier signed note: mg for steroids and magnesium, units for toxins."""

    on: date
    drug: str
    amount: Decimal


@dataclass(frozen=True)
class ExposureResult:
    findings: tuple[Finding, ...]
    session_triamcinolone_equivalent_mg: Decimal | None
    steroid_12_month_triamcinolone_equivalent_mg: Decimal | None
    magnesium_total_mg: Decimal | None
    last_toxin: PriorDose | None
    triamcinolone_equivalent_mg_by_drug: dict[str, Decimal]

    def as_dict(self) -> dict[str, Any]:
        return {
            "triamcinolone_equivalent_mg": _rounded(self.session_triamcinolone_equivalent_mg),
            "steroid_12_month_triamcinolone_equivalent_mg": _rounded(
                self.steroid_12_month_triamcinolone_equivalent_mg
            ),
            "magnesium_total_mg": _rounded(self.magnesium_total_mg),
            "last_toxin_dose": None
            if self.last_toxin is None
            else {
                "date": self.last_toxin.on.isoformat(),
                "drug": self.last_toxin.drug,
                "units": _rounded(self.last_toxin.amount),
            },
        }


def check_exposure(
    *,
    today: date,
    steroid_mg: Mapping[str, Decimal],
    toxin_units: Mapping[str, Decimal],
    magnesium_mg: Decimal | None,
    history: Iterable[PriorDose] = (),
    limits: InjectateLimits | None = None,
    drugs: DrugCatalog | None = None,
) -> ExposureResult:
    """Findings for this session's toxins, steroids and magnesium, given the earlier signed doses.

    `history` holds doses on or before `today` from the patient's other signed notes;
    later ones are ignored. A dose on the same day counts as 0 days ago.
    """
    limits = limits or load_limits()
    drugs = drugs or load_drugs()
    prior = [dose for dose in history if dose.on <= today]
    findings: list[Finding] = []

    last_toxin = _last_toxin(prior, drugs)
    if toxin_units:
        findings += _toxin_findings(today, toxin_units, prior, last_toxin, limits, drugs)

    by_drug = {drug: limits.triamcinolone_equivalent_mg(drug, mg) for drug, mg in steroid_mg.items()}
    session_tae = sum(by_drug.values(), Decimal(0)) if by_drug else None
    if session_tae is not None:
        rule = steroid_session_rule(limits)
        cap = limits.steroid_session_review_above_tae_mg
        if session_tae > cap:
            findings.append(
                Finding.of(
                    rule,
                    SEVERITY_REVIEW,
                    f"Corticosteroid {_display(session_tae)} mg triamcinolone-equivalent this session is above the "
                    f"review threshold of {_display(cap)} mg: a physician must review and give a reason.",
                    triamcinolone_equivalent_mg=float(session_tae),
                    threshold_mg=float(cap),
                )
            )
    window_start = today - timedelta(days=limits.steroid_window_days)
    prior_tae = sum(
        (
            limits.triamcinolone_equivalent_mg(dose.drug, dose.amount)
            for dose in prior
            if dose.on > window_start and dose.drug in limits.steroid_equivalents
        ),
        Decimal(0),
    )
    has_prior_steroid = any(
        dose.on > window_start and dose.drug in limits.steroid_equivalents for dose in prior
    )
    twelve_month = None
    if session_tae is not None or has_prior_steroid:
        twelve_month = prior_tae + (session_tae or Decimal(0))
        findings.append(
            Finding.of(
                steroid_cumulative_rule(limits),
                SEVERITY_INFO,
                f"Corticosteroid over the last 12 months: {_display(twelve_month)} mg triamcinolone-equivalent "
                f"({_display(session_tae or Decimal(0))} mg this session, {_display(prior_tae)} mg in earlier signed "
                "notes).",
                twelve_month_mg=float(twelve_month),
                session_mg=float(session_tae or 0),
                prior_mg=float(prior_tae),
            )
        )

    if magnesium_mg is not None:
        cap = limits.magnesium_review_above_mg
        over = magnesium_mg > cap
        findings.append(
            Finding.of(
                magnesium_rule(limits),
                SEVERITY_REVIEW if over else SEVERITY_INFO,
                f"Magnesium sulfate {_display(magnesium_mg)} mg this session"
                + (
                    f" is above the review threshold of {_display(cap)} mg: a physician must review and give a reason."
                    if over
                    else f" (review threshold {_display(cap)} mg)."
                ),
                total_mg=float(magnesium_mg),
                threshold_mg=float(cap),
            )
        )
    return ExposureResult(
        findings=tuple(findings),
        session_triamcinolone_equivalent_mg=session_tae,
        steroid_12_month_triamcinolone_equivalent_mg=twelve_month,
        magnesium_total_mg=magnesium_mg,
        last_toxin=last_toxin,
        triamcinolone_equivalent_mg_by_drug=by_drug,
    )


def _last_toxin(prior: list[PriorDose], drugs: DrugCatalog) -> PriorDose | None:
    toxins = [dose for dose in prior if dose.drug in drugs.drugs and drugs.get(dose.drug).drug_class == "botulinum_toxin"]
    return max(toxins, key=lambda dose: dose.on) if toxins else None


def _toxin_findings(
    today: date,
    toxin_units: Mapping[str, Decimal],
    prior: list[PriorDose],
    last_toxin: PriorDose | None,
    limits: InjectateLimits,
    drugs: DrugCatalog,
) -> list[Finding]:
    findings: list[Finding] = []
    max_rule = toxin_max_rule(limits)
    for drug_id, units in toxin_units.items():
        row = limits.toxins[drug_id]
        name = drugs.get(drug_id).name
        earlier = Decimal(0)
        if row.window_days:
            start = today - timedelta(days=row.window_days)
            earlier = sum((d.amount for d in prior if d.drug == drug_id and d.on > start), Decimal(0))
        total = units + earlier
        if total > row.max_units:
            window = f"in {row.window_days} days" if row.window_days else "in one session"
            history_text = f" ({_display(units)} units now + {_display(earlier)} units earlier)" if earlier else ""
            findings.append(
                Finding.of(
                    max_rule,
                    SEVERITY_BLOCK,
                    f"{name} {_display(total)} units {window}{history_text} is over the product's maximum of "
                    f"{_display(row.max_units)} units.",
                    drug=drug_id,
                    total_units=float(total),
                    session_units=float(units),
                    earlier_units=float(earlier),
                    max_units=float(row.max_units),
                    window_days=row.window_days,
                )
            )
    minimum = limits.toxin_min_days_between_sessions
    if last_toxin is not None:
        days = (today - last_toxin.on).days
        if days < minimum:
            findings.append(
                Finding.of(
                    toxin_interval_rule(limits),
                    SEVERITY_BLOCK,
                    f"Botulinum toxin was last given {days} days ago ({drugs.get(last_toxin.drug).name} "
                    f"{_display(last_toxin.amount)} units on {last_toxin.on.isoformat()}); at least {minimum} days "
                    f"({minimum // 7} weeks) must pass, so not before "
                    f"{(last_toxin.on + timedelta(days=minimum)).isoformat()}.",
                    days_since_last=days,
                    minimum_days=minimum,
                    last_date=last_toxin.on.isoformat(),
                    last_drug=last_toxin.drug,
                )
            )
    return findings


def _display(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP).normalize():f}"


def _rounded(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
