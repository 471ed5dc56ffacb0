"""What the screening rules may be told and every number a clinic may set: vocabularies,
`ScreeningPolicy`, the plausible ranges of measured facts, and the sources the rules cite.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from triggerpoint.core.choices import GUIDANCES
from triggerpoint.core.choices import TECHNIQUES as TECHNIQUES  # re-exported with the local vocabularies

# --- vocabularies -----------------------------------------------------------------------------------

SEVERITIES: tuple[str, ...] = ("info", "review", "defer", "contraindicated")
READY = "ready"
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
EVENT_TYPES: tuple[str, ...] = ("fever", "antibiotics", "illness", "hospitalization")
CONDITIONS: tuple[str, ...] = (
    "bleeding_disorder",
    "copd",
    "diabetes",
    "fibromyalgia",
    "immunosuppression",
    "prior_vasovagal",
    "thin_habitus",
    "widespread_pain",
    # issue 14: neuromuscular junction disease, organ conditions, pneumothorax factor, red flags
    "myasthenia_gravis",
    "lambert_eaton",
    "als",
    "kidney_impairment",
    "heart_block",
    "smoker",
    "suspected_malignancy",
    "new_neurological_deficit",
    "recent_trauma_at_site",
    "recent_surgery_at_site",
    "fracture",
)
ALLERGY_STATUSES: tuple[str, ...] = ("unknown", "nkda", "has_allergies")
MEDICATION_CLASSES: tuple[str, ...] = (
    "anticoagulant",
    "antiplatelet",
    "nsaid",
    "corticosteroid",
    "antibiotic",
    "immunosuppressant",
    "other",
)
BLOOD_THINNER_CLASSES = frozenset({"anticoagulant", "antiplatelet"})
TEMPERATURE_UNITS: tuple[str, ...] = ("C", "F")
# The kernel's vocabularies (core.choices): how the needle is guided, and injection or dry needling.
GUIDANCE_MODES = GUIDANCES
VIAL_KINDS: tuple[str, ...] = ("single_dose", "multi_dose")

CORTICOSTEROID = "corticosteroid"
BOTULINUM_TOXIN = "botulinum_toxin"
SALINE = "saline"

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


# --- the policy: every threshold and clinic-configurable value --------------------------------------


@dataclass(frozen=True)
class ScreeningPolicy:
    """Every threshold the screening rules use. Pass another instance for another clinic or payer."""

    # Clinic protocol (seed page 002): report fevers, antibiotics, illness, hospital stays in the last 4 weeks.
    recent_event_window_days: int = 28
    recent_event_severity: str = "review"
    # Fever today: at or above this temperature (38.0 °C = 100.4 °F exactly).
    fever_threshold_c: Decimal = Decimal("38.0")
    # With no temperature recorded today the fever rule cannot clear the patient.
    missing_temperature_severity: str = "review"
    # Steroid planned: review above this glucose today; tell diabetics to watch glucose for this many days.
    steroid_glucose_review_above_mg_dl: Decimal = Decimal("200")
    steroid_glucose_watch_days: int = 3
    # Pneumothorax-risk site: these patient factors raise the finding from info to review.
    pneumothorax_low_bmi_below: Decimal = Decimal("18.5")
    pneumothorax_risk_conditions: frozenset[str] = frozenset({"copd", "thin_habitus", "smoker"})
    # Corticosteroid counts: review when this injection would make the count exceed the maximum.
    steroid_series_max: int = 4  # BCBS AL/FL MP-739: corticosteroid in > 4 injections in a set
    steroid_yearly_max: int = 4  # payer-style 12-month ceiling (MP-739 / Triple-S 2.01.103: ≤ 4 in 12 months)
    missing_steroid_history_severity: str = "info"
    # Widespread pain: these conditions need documented trigger points.
    widespread_pain_conditions: frozenset[str] = frozenset({"fibromyalgia", "widespread_pain"})
    # A booked procedure: the preparation instructions and the questionnaire link go out this many days
    # before it (early enough to answer and to plan around blood thinners, late enough to be remembered).
    preparation_days_before: int = 3

    def __post_init__(self) -> None:
        problems = []
        for name in ("recent_event_severity", "missing_temperature_severity", "missing_steroid_history_severity"):
            if getattr(self, name) not in SEVERITIES:
                problems.append(f"{name} must be one of {', '.join(SEVERITIES)}")
        if self.recent_event_severity in SEVERITIES and SEVERITY_RANK[self.recent_event_severity] < 1:
            problems.append("recent_event_severity must be at least 'review' (the clinic's 4-week rule)")
        for name in ("recent_event_window_days", "steroid_glucose_watch_days", "steroid_series_max", "steroid_yearly_max",
                     "preparation_days_before"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                problems.append(f"{name} must be a positive whole number")
        for name in ("pneumothorax_risk_conditions", "widespread_pain_conditions"):
            unknown = set(getattr(self, name)) - set(CONDITIONS)
            if unknown:
                problems.append(f"{name} has unknown conditions {sorted(unknown)}; allowed: {', '.join(CONDITIONS)}")
        if problems:
            raise ValueError("; ".join(problems))


DEFAULT_POLICY = ScreeningPolicy()


@dataclass(frozen=True)
class InputLimits:
    """Plausible ranges for measured facts; outside them the request is refused as a likely entry or unit error."""

    age_years: tuple[int, int] = (0, 120)
    weight_kg: tuple[Decimal, Decimal] = (Decimal("1"), Decimal("500"))
    bmi: tuple[Decimal, Decimal] = (Decimal("8"), Decimal("100"))
    temperature_c: tuple[Decimal, Decimal] = (Decimal("30"), Decimal("45"))
    blood_glucose_mg_dl: tuple[Decimal, Decimal] = (Decimal("10"), Decimal("1500"))
    steroid_injections: tuple[int, int] = (0, 366)
    inr: tuple[Decimal, Decimal] = (Decimal("0.5"), Decimal("20"))


INPUT_LIMITS = InputLimits()


# --- sources the rule table cites -------------------------------------------------------------------

SEED_002 = "Clinic protocol, seed page 002 (shared/domain/seed-protocol.md)"
FPNOTEBOOK = "fpnotebook, Trigger Point Injection: contraindications (tpi-clinical-facts.md §3.1)"
ASRA_2018 = "Narouze et al., ASRA interventional pain guideline, 2nd ed., Reg Anesth Pain Med 2018;43:225 (tpi-clinical-facts.md §3.2)"
ENDRES_2017 = "Endres, Shufelt, Bogduk, Pain Med 2017;18:403 (tpi-clinical-facts.md §3.2)"
MP_739 = "BCBS AL/FL medical policy MP-739 (tpi-clinical-facts.md §1.5)"
TRIPLE_S = "Triple-S / BCBS-style policy 2.01.103 (tpi-clinical-facts.md §1.5)"
