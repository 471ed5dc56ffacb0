"""Pre-procedure screening: is this patient ready for this trigger point procedure on this day?

Each rule below looks at one kind of fact (today's health, the weeks before, allergies,
blood thinners, the planned sites and injectates, the patient's history) and states a
finding with a severity, a message and the basis shown to the clinician. The screening
status is the most severe finding: ``info`` < ``review`` < ``defer`` < ``contraindicated``;
``ready`` when nothing is above ``info``.

Every number a clinic may set differently lives in `ScreeningPolicy` (one table, the
defaults being the clinic protocol of the seed pages and the sources in
``shared/domain``); pass another instance to evaluate under another clinic's or payer's
rules. Clinical word lists (blood thinners, allergy words) are data in ``data/``.

Facts the rules need are parsed by `parse_screening_request`, which refuses a request
that is missing a required fact or names an unknown drug, muscle, unit or code — listing
every problem at once — so that a missing fact can never come out as a silent ``ready``.

The recent-illness window is half-open: an event counts when any of its days falls in
``[procedure_date - window_days, procedure_date)``. With the default 28 days, an event on
day 28 before the procedure counts and one ending on day 29 does not. An event may not
start on or after the procedure date: the procedure day's health is reported in ``today``.

Allergy matching, in order: a class word ("amide anesthetics", "steroids", "botox"); a drug
of the catalogue by id, name or synonym; a local anesthetic the clinic does not stock
(``data/allergy_terms.yaml``); then any other single word ending in "-caine" is taken as a
local anesthetic of unknown class, which the clinician must identify (``review``).
Cross-reactivity is by class: an allergy to one amide counts against every amide.

Issue 14 rule groups live in their own modules and are run from this module's rule table:
``rules_allergy`` (allergy status, excipients, unmatched allergies), ``rules_toxin`` (botulinum
toxin), ``rules_bleeding`` (deep non-compressible sites, dual antithrombotics, INR) and
``rules_conditions`` (immunosuppression, red flags, magnesium, bilateral chest-wall sites); their
thresholds are in ``data/safety_rules.yaml`` and ``data/excipients.yaml``.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from triggerpoint.atlas.catalog import SIDES, Atlas, load_atlas
from triggerpoint.catalogues.drugs import LOCAL_ANESTHETIC_CLASSES, Drug, DrugCatalog, load_drugs
from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.screening import rules_allergy, rules_bleeding, rules_conditions, rules_toxin
from triggerpoint.screening.content import (
    AllergyVocabulary,
    BloodThinnerTable,
    load_allergy_vocabulary,
    load_blood_thinners,
    normalize_term,
)
from triggerpoint.screening.safety_data import load_safety_rules

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
# "unknown": nobody asked; "nkda": asked, no known drug allergies; "has_allergies": the list says which.
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
GUIDANCE_MODES: tuple[str, ...] = ("landmark", "ultrasound")
VIAL_KINDS: tuple[str, ...] = ("single_dose", "multi_dose")
TECHNIQUES: tuple[str, ...] = ("injection", "dry_needling")

CORTICOSTEROID = "corticosteroid"
BOTULINUM_TOXIN = "botulinum_toxin"
SALINE = "saline"

_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

    def __post_init__(self) -> None:
        problems = []
        for name in ("recent_event_severity", "missing_temperature_severity", "missing_steroid_history_severity"):
            if getattr(self, name) not in SEVERITIES:
                problems.append(f"{name} must be one of {', '.join(SEVERITIES)}")
        if self.recent_event_severity in SEVERITIES and _SEVERITY_RANK[self.recent_event_severity] < 1:
            problems.append("recent_event_severity must be at least 'review' (the clinic's 4-week rule)")
        for name in ("recent_event_window_days", "steroid_glucose_watch_days", "steroid_series_max", "steroid_yearly_max"):
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


# --- typed facts ------------------------------------------------------------------------------------


def fahrenheit_to_celsius(value: Decimal) -> Decimal:
    return (value - 32) * 5 / 9


def celsius_to_fahrenheit(value: Decimal) -> Decimal:
    return value * 9 / 5 + 32


@dataclass(frozen=True)
class Temperature:
    """A temperature as measured, in °C or °F. Decimal, so 100.4 °F is exactly 38.0 °C."""

    value: Decimal
    unit: str  # "C" | "F"

    @property
    def celsius(self) -> Decimal:
        return self.value if self.unit == "C" else fahrenheit_to_celsius(self.value)

    def describe(self) -> str:
        """As measured first, then converted: "100.4 °F (38.0 °C)"."""
        if self.unit == "F":
            return f"{self.value} °F ({self.celsius:.1f} °C)"
        return f"{self.value} °C ({celsius_to_fahrenheit(self.value):.1f} °F)"


@dataclass(frozen=True)
class Medication:
    name: str
    drug_class: str  # one of MEDICATION_CLASSES


@dataclass(frozen=True)
class PatientFacts:
    age: int
    sex: str
    weight_kg: Decimal
    pregnant: bool
    allergies: tuple[str, ...]
    medications: tuple[Medication, ...]
    conditions: frozenset[str]
    high_bleeding_risk: bool  # marked by the physician
    bmi: Decimal | None = None
    # Never asked unless recorded: a missing status is "unknown", which keeps the screening from `ready`.
    allergy_status: str = "unknown"
    breastfeeding: bool | None = None  # None: not asked
    inr: InrReading | None = None


@dataclass(frozen=True)
class InrReading:
    """The most recent INR and the day it was taken."""

    value: Decimal
    taken_on: date


@dataclass(frozen=True)
class Event:
    """A fever, antibiotic course, illness or hospital stay before the procedure day."""

    type: str
    date: date
    end_date: date | None = None

    @property
    def last_day(self) -> date:
        return self.end_date or self.date


@dataclass(frozen=True)
class TodayFacts:
    """Facts about the procedure day. `infection_at_site` covers infection or broken skin at or near a planned site."""

    feels_unwell: bool
    on_antibiotics: bool
    infection_at_site: bool
    temperature: Temperature | None = None
    blood_glucose_mg_dl: Decimal | None = None


@dataclass(frozen=True)
class PlannedSite:
    muscle: str  # atlas muscle id
    side: str  # left | right


@dataclass(frozen=True)
class PlannedInjectate:
    drug: str  # drug catalogue id
    with_epinephrine: bool | None = None  # None: not said (excipient rules then ask to check the vial)
    vial: str | None = None  # single_dose | multi_dose | None (not said)


@dataclass(frozen=True)
class PlanFacts:
    sites: tuple[PlannedSite, ...]
    injectates: tuple[PlannedInjectate, ...]
    guidance: str  # landmark | ultrasound
    technique: str = "injection"  # injection | dry_needling
    trigger_points_documented: bool | None = None


@dataclass(frozen=True)
class HistoryFacts:
    steroid_injections_last_12_months: int | None = None
    steroid_injections_in_series: int | None = None
    last_botulinum_toxin_date: date | None = None  # the last toxin dose before the procedure; None: none on file


@dataclass(frozen=True)
class ScreeningInput:
    procedure_date: date
    patient: PatientFacts
    events: tuple[Event, ...]
    today: TodayFacts
    plan: PlanFacts
    history: HistoryFacts = field(default_factory=HistoryFacts)


@dataclass(frozen=True)
class ScreeningResult:
    status: str  # ready | review | defer | contraindicated
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        """The `screening/evaluate` contract shape (ARCHITECTURE §8)."""
        return {"status": self.status, "findings": [finding.as_dict() for finding in self.findings]}


# --- parsing the JSON contract ----------------------------------------------------------------------

_MISSING = object()


class _Reader:
    """Reads one JSON object, collecting every problem instead of stopping at the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def section(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Mapping[str, Any] | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append(f"{path} is required")
            return None
        if not isinstance(value, Mapping):
            self.problems.append(f"{path} must be an object")
            return None
        return value

    def list_of(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> list[Any] | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append(f"{path} is required (use [] when there are none)")
            return None
        if not isinstance(value, list):
            self.problems.append(f"{path} must be a list")
            return None
        return value

    def boolean(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> bool | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append(f"{path} is required (true or false)")
            return None
        if not isinstance(value, bool):
            self.problems.append(f"{path} must be true or false, not {value!r}")
            return None
        return value

    def text(self, parent: Mapping[str, Any], key: str, path: str) -> str | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            self.problems.append(f"{path} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{path} must be a non-empty string")
            return None
        return value.strip()

    def choice(self, parent: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(parent, key, path)
        if value is not None and value not in allowed:
            self.problems.append(f"{path} {value!r} is not allowed; allowed: {', '.join(allowed)}")
            return None
        return value

    def number(
        self,
        parent: Mapping[str, Any],
        key: str,
        path: str,
        limits: tuple[Decimal, Decimal] | None,
        *,
        required: bool = True,
        whole: bool = False,
    ) -> Decimal | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append(f"{path} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.append(f"{path} must be a number, not {value!r}")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.problems.append(f"{path} must be a finite number")
            return None
        if not number.is_finite():
            self.problems.append(f"{path} must be a finite number")
            return None
        if whole and number != number.to_integral_value():
            self.problems.append(f"{path} must be a whole number")
            return None
        if limits is not None and not limits[0] <= number <= limits[1]:
            self.problems.append(f"{path} {value} is outside the plausible range {limits[0]}–{limits[1]}")
            return None
        return number

    def iso_date(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> date | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append(f"{path} is required (YYYY-MM-DD)")
            return None
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            self.problems.append(f"{path} must be a date written YYYY-MM-DD, not {value!r}")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problems.append(f"{path} {value!r} is not a real date")
            return None


def parse_screening_request(
    payload: Any, *, atlas: Atlas | None = None, drugs: DrugCatalog | None = None
) -> ScreeningInput:
    """Turn a `screening/evaluate` request body into typed facts.

    Raises `RuleInputError` listing every missing or invalid fact, and every unknown drug,
    muscle, unit or code together with the allowed values.
    """
    if not isinstance(payload, Mapping):
        raise RuleInputError("the request body must be a JSON object")
    atlas = atlas or load_atlas()
    drugs = drugs or load_drugs()
    problems: list[str] = []
    read = _Reader(problems)

    procedure_date = read.iso_date(payload, "procedure_date", "procedure_date")
    patient = _parse_patient(read, read.section(payload, "patient", "patient"))
    events = _parse_events(read, read.list_of(payload, "events", "events"), procedure_date)
    today = _parse_today(read, read.section(payload, "today", "today"))
    plan = _parse_plan(read, read.section(payload, "plan", "plan"), atlas, drugs)
    history = _parse_history(read, read.section(payload, "history", "history", required=False))
    for label, day in (
        ("patient.inr.date", patient.inr.taken_on if patient and patient.inr else None),
        ("history.last_botulinum_toxin_date", history.last_botulinum_toxin_date),
    ):
        if day is not None and procedure_date is not None and day > procedure_date:
            problems.append(f"{label} {day.isoformat()} is after the procedure date {procedure_date.isoformat()}")

    if problems:
        raise RuleInputError(problems)
    # No problems means every section parsed, so none of these is None.
    return ScreeningInput(procedure_date, patient, events, today, plan, history)  # type: ignore[arg-type]


def parse_plan(payload: Any, *, atlas: Atlas | None = None, drugs: DrugCatalog | None = None) -> PlanFacts:
    """Parse a stored or submitted plan (the contract's ``plan`` object) on its own.

    Used when a screening record is created, so a plan naming an unknown muscle or drug is
    refused before it is stored. Raises `RuleInputError` listing every problem.
    """
    if not isinstance(payload, Mapping):
        raise RuleInputError("plan must be an object with sites, injectates and guidance")
    problems: list[str] = []
    plan = _parse_plan(_Reader(problems), payload, atlas or load_atlas(), drugs or load_drugs())
    if problems or plan is None:
        raise RuleInputError(problems or ["plan is incomplete"])
    return plan


def _parse_patient(read: _Reader, section: Mapping[str, Any] | None) -> PatientFacts | None:
    if section is None:
        return None
    age = read.number(section, "age", "patient.age", tuple(map(Decimal, INPUT_LIMITS.age_years)), whole=True)
    sex = read.choice(section, "sex", "patient.sex", SEXES)
    weight = read.number(section, "weight_kg", "patient.weight_kg", INPUT_LIMITS.weight_kg)
    bmi = read.number(section, "bmi", "patient.bmi", INPUT_LIMITS.bmi, required=False)
    pregnant = read.boolean(section, "pregnant", "patient.pregnant")
    high_bleeding_risk = read.boolean(section, "high_bleeding_risk", "patient.high_bleeding_risk")
    allergy_status = read.choice(section, "allergy_status", "patient.allergy_status", ALLERGY_STATUSES)
    breastfeeding = read.boolean(section, "breastfeeding", "patient.breastfeeding", required=False)
    inr = None
    reading = read.section(section, "inr", "patient.inr", required=False)
    if reading is not None:
        value = read.number(reading, "value", "patient.inr.value", INPUT_LIMITS.inr)
        taken_on = read.iso_date(reading, "date", "patient.inr.date")
        if value is not None and taken_on is not None:
            inr = InrReading(value, taken_on)

    allergies: list[str] = []
    for index, item in enumerate(read.list_of(section, "allergies", "patient.allergies") or ()):
        if isinstance(item, str) and item.strip():
            allergies.append(item.strip())
        else:
            read.problems.append(f"patient.allergies[{index}] must be a substance name (non-empty string)")

    medications: list[Medication] = []
    for index, item in enumerate(read.list_of(section, "medications", "patient.medications") or ()):
        path = f"patient.medications[{index}]"
        if not isinstance(item, Mapping):
            read.problems.append(f"{path} must be an object with name and drug_class")
            continue
        name = read.text(item, "name", f"{path}.name")
        drug_class = read.choice(item, "drug_class", f"{path}.drug_class", MEDICATION_CLASSES)
        if name and drug_class:
            medications.append(Medication(name, drug_class))

    conditions: set[str] = set()
    for index, item in enumerate(read.list_of(section, "conditions", "patient.conditions") or ()):
        if item in CONDITIONS:
            conditions.add(item)
        else:
            read.problems.append(f"patient.conditions[{index}] {item!r} is not allowed; allowed: {', '.join(CONDITIONS)}")

    if allergy_status == "nkda" and allergies:
        read.problems.append(
            f"patient.allergy_status 'nkda' (no known drug allergies) contradicts patient.allergies {allergies}"
        )
    if allergy_status == "has_allergies" and not allergies and "allergies" in section:
        read.problems.append("patient.allergy_status 'has_allergies' but patient.allergies is empty: name them")

    if None in (age, sex, weight, pregnant, high_bleeding_risk, allergy_status):
        return None
    return PatientFacts(
        age=int(age),  # type: ignore[arg-type]
        sex=sex,  # type: ignore[arg-type]
        weight_kg=weight,  # type: ignore[arg-type]
        bmi=bmi,
        pregnant=pregnant,  # type: ignore[arg-type]
        allergies=tuple(allergies),
        medications=tuple(medications),
        conditions=frozenset(conditions),
        high_bleeding_risk=high_bleeding_risk,  # type: ignore[arg-type]
        allergy_status=allergy_status,  # type: ignore[arg-type]
        breastfeeding=breastfeeding,
        inr=inr,
    )


def _parse_events(read: _Reader, items: list[Any] | None, procedure_date: date | None) -> tuple[Event, ...] | None:
    if items is None:
        return None
    events: list[Event] = []
    for index, item in enumerate(items):
        path = f"events[{index}]"
        if not isinstance(item, Mapping):
            read.problems.append(f"{path} must be an object with type and date")
            continue
        event_type = read.choice(item, "type", f"{path}.type", EVENT_TYPES)
        start = read.iso_date(item, "date", f"{path}.date")
        end = read.iso_date(item, "end_date", f"{path}.end_date", required=False)
        if start and end and end < start:
            read.problems.append(f"{path}.end_date {end.isoformat()} is before its date {start.isoformat()}")
            continue
        if start and procedure_date and start >= procedure_date:
            read.problems.append(
                f"{path}.date {start.isoformat()} is not before the procedure date; "
                "report the procedure day's fever, antibiotics or illness under 'today'"
            )
            continue
        if event_type and start:
            events.append(Event(event_type, start, end))
    return tuple(events)


def _parse_today(read: _Reader, section: Mapping[str, Any] | None) -> TodayFacts | None:
    if section is None:
        return None
    feels_unwell = read.boolean(section, "feels_unwell", "today.feels_unwell")
    on_antibiotics = read.boolean(section, "on_antibiotics", "today.on_antibiotics")
    infection_at_site = read.boolean(section, "infection_at_site", "today.infection_at_site")
    glucose = read.number(
        section, "blood_glucose_mg_dl", "today.blood_glucose_mg_dl", INPUT_LIMITS.blood_glucose_mg_dl, required=False
    )
    temperature = None
    reading = read.section(section, "temperature", "today.temperature", required=False)
    if reading is not None:
        unit = read.choice(reading, "unit", "today.temperature.unit", TEMPERATURE_UNITS)
        value = read.number(reading, "value", "today.temperature.value", None)
        if unit and value is not None:
            temperature = Temperature(value, unit)
            low, high = INPUT_LIMITS.temperature_c
            if not low <= temperature.celsius <= high:
                read.problems.append(
                    f"today.temperature {value} °{unit} is outside the plausible range {low}–{high} °C "
                    f"({celsius_to_fahrenheit(low):.0f}–{celsius_to_fahrenheit(high):.0f} °F); check the unit"
                )
    if None in (feels_unwell, on_antibiotics, infection_at_site):
        return None
    return TodayFacts(
        feels_unwell=feels_unwell,  # type: ignore[arg-type]
        on_antibiotics=on_antibiotics,  # type: ignore[arg-type]
        infection_at_site=infection_at_site,  # type: ignore[arg-type]
        temperature=temperature,
        blood_glucose_mg_dl=glucose,
    )


def _parse_plan(read: _Reader, section: Mapping[str, Any] | None, atlas: Atlas, drugs: DrugCatalog) -> PlanFacts | None:
    if section is None:
        return None
    sites: list[PlannedSite] = []
    site_items = read.list_of(section, "sites", "plan.sites")
    if site_items == []:
        read.problems.append("plan.sites must name at least one muscle and side")
    for index, item in enumerate(site_items or ()):
        path = f"plan.sites[{index}]"
        if not isinstance(item, Mapping):
            read.problems.append(f"{path} must be an object with muscle and side")
            continue
        muscle = read.choice(item, "muscle", f"{path}.muscle", tuple(sorted(atlas.muscles)))
        side = read.choice(item, "side", f"{path}.side", SIDES)
        if muscle and side:
            sites.append(PlannedSite(muscle, side))

    injectates: list[PlannedInjectate] = []
    for index, item in enumerate(read.list_of(section, "injectates", "plan.injectates") or ()):
        path = f"plan.injectates[{index}].drug"
        if not isinstance(item, Mapping):
            read.problems.append(f"plan.injectates[{index}] must be an object with drug")
            continue
        name = read.text(item, "drug", path)
        if name is None:
            continue
        drug = drugs.resolve(name)
        with_epinephrine = read.boolean(
            item, "with_epinephrine", f"plan.injectates[{index}].with_epinephrine", required=False
        )
        vial = None
        if item.get("vial") is not None:
            vial = read.choice(item, "vial", f"plan.injectates[{index}].vial", VIAL_KINDS)
        if drug is None:
            read.problems.append(f"{path} {name!r} is not a known drug; allowed: {', '.join(drugs.ids)}")
        else:
            injectates.append(PlannedInjectate(drug.id, with_epinephrine, vial))

    guidance = read.choice(section, "guidance", "plan.guidance", GUIDANCE_MODES)
    technique = "injection"
    if section.get("technique") is not None:
        technique = read.choice(section, "technique", "plan.technique", TECHNIQUES) or technique
    elif isinstance(section.get("injectates"), list) and not section["injectates"]:
        read.problems.append("plan.injectates is empty: name at least one drug, or set plan.technique to 'dry_needling'")
    if technique == "dry_needling" and injectates:
        read.problems.append("plan.technique 'dry_needling' injects nothing, but plan.injectates names drugs")
    documented = read.boolean(section, "trigger_points_documented", "plan.trigger_points_documented", required=False)

    if guidance is None or site_items is None or not sites or len(sites) != len(site_items):
        return None
    return PlanFacts(tuple(sites), tuple(injectates), guidance, technique, documented)


def _parse_history(read: _Reader, section: Mapping[str, Any] | None) -> HistoryFacts:
    if section is None:
        return HistoryFacts()
    limits = tuple(map(Decimal, INPUT_LIMITS.steroid_injections))
    yearly = read.number(
        section,
        "steroid_injections_last_12_months",
        "history.steroid_injections_last_12_months",
        limits,
        required=False,
        whole=True,
    )
    series = read.number(
        section,
        "steroid_injections_in_series",
        "history.steroid_injections_in_series",
        limits,
        required=False,
        whole=True,
    )
    last_toxin = read.iso_date(
        section, "last_botulinum_toxin_date", "history.last_botulinum_toxin_date", required=False
    )
    return HistoryFacts(
        steroid_injections_last_12_months=None if yearly is None else int(yearly),
        steroid_injections_in_series=None if series is None else int(series),
        last_botulinum_toxin_date=last_toxin,
    )


# --- the rule table ---------------------------------------------------------------------------------

SEED_002 = "Clinic protocol, seed page 002 (shared/domain/seed-protocol.md)"
FPNOTEBOOK = "fpnotebook, Trigger Point Injection: contraindications (tpi-clinical-facts.md §3.1)"
ASRA_2018 = "Narouze et al., ASRA interventional pain guideline, 2nd ed., Reg Anesth Pain Med 2018;43:225 (tpi-clinical-facts.md §3.2)"
ENDRES_2017 = "Endres, Shufelt, Bogduk, Pain Med 2017;18:403 (tpi-clinical-facts.md §3.2)"
MP_739 = "BCBS AL/FL medical policy MP-739 (tpi-clinical-facts.md §1.5)"
TRIPLE_S = "Triple-S / BCBS-style policy 2.01.103 (tpi-clinical-facts.md §1.5)"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "SCR-SITE-INFECTION",
            1,
            "Infection or broken skin at a planned site",
            "Injecting through infected or broken skin can carry germs into the muscle; local infection is a "
            "contraindication.",
            (FPNOTEBOOK, "Trial exclusion criteria (tpi-clinical-facts.md §3.1)"),
        ),
        Rule(
            "SCR-ALLERGY-INJECTATE",
            2,  # v2: unmatched allergies moved to SCR-ALLERGY-UNMATCHED (review, was an info line here)
            "Allergy to a planned injectate",
            "An allergy to a planned drug, or to another drug of the same class (amide local anesthetics, ester "
            "local anesthetics, corticosteroids, botulinum toxins), rules that drug out; saline or dry needling "
            "need no drug of those classes.",
            (FPNOTEBOOK, "Roldan 2020, saline non-inferior (tpi-clinical-facts.md §2.5)"),
        ),
        Rule(
            "SCR-ANTIBIOTICS-TODAY",
            1,
            "On antibiotics on the procedure day",
            "The clinic asks patients to be off all antibiotics on the day of the procedure; an infection still "
            "being treated is a reason to wait.",
            (SEED_002, "Clinic reporting instructions (tpi-clinical-facts.md §3.3)"),
        ),
        Rule(
            "SCR-FEVER-TODAY",
            1,
            "Fever on the procedure day",
            "The clinic asks patients to be healthy on the day; a fever suggests a systemic infection, which is a "
            "contraindication. The threshold is the clinic's; no TPI-specific fever threshold was found.",
            (SEED_002, FPNOTEBOOK),
        ),
        Rule(
            "SCR-UNWELL-TODAY",
            1,
            "Feeling unwell on the procedure day",
            "The clinic asks patients to be healthy on the day of the procedure.",
            (SEED_002,),
        ),
        Rule(
            "SCR-RECENT-ILLNESS",
            1,
            "Fever, antibiotics, illness or hospital stay in the weeks before",
            "The clinic asks patients to report fevers, antibiotic treatment, illness or hospitalization within the "
            "last 4 weeks (the clinic's own rule; no published source gives that window).",
            (SEED_002, "tpi-clinical-facts.md §3.3, §9 item 1"),
        ),
        Rule(
            "SCR-ANTICOAGULANT",
            1,
            "Blood thinner (anticoagulant or antiplatelet)",
            "Trigger point injections are not on ASRA's intermediate- or high-bleeding-risk procedure lists. In a "
            "large series, continuing blood thinners caused no attributable complication in 4,766 procedures, "
            "while stopping them was followed by 9 serious events, 2 of them deaths, in 2,296. Default: continue; "
            "holding is the physician's decision with the prescriber for high-risk patients.",
            (ASRA_2018, ENDRES_2017, SEED_002),
        ),
        Rule(
            "SCR-BLEEDING-DISORDER",
            1,
            "Bleeding disorder",
            "A known bleeding disorder is listed as a contraindication to trigger point injection; the physician "
            "weighs it.",
            (FPNOTEBOOK,),
        ),
        Rule(
            "SCR-PREGNANCY",
            1,
            "Pregnancy",
            "Pregnancy is a precaution: there is no TPI-specific guideline, most trials exclude it, and local "
            "anesthetic doses may need reducing.",
            ("clinicalgate, Trigger point injection (tpi-clinical-facts.md §3.1)", "tpi-clinical-facts.md §3.4"),
        ),
        Rule(
            "SCR-WIDESPREAD-PAIN",
            1,
            "Widespread pain or fibromyalgia without documented trigger points",
            "Widespread pain such as fibromyalgia is not suited to trigger point injection until treated, and "
            "tenderness alone is not an indication; fibromyalgia tender points are not trigger points.",
            ("Medscape, Trigger point injection (tpi-clinical-facts.md §3.1)", "ACR criteria (tpi-clinical-facts.md §6.1)"),
        ),
        Rule(
            "SCR-STEROID-DIABETES",
            1,
            "Diabetes with a planned corticosteroid",
            "Corticosteroid injections can raise blood glucose for up to about 3 days.",
            ("tpi-clinical-facts.md §2.4 (lmtrehab; UIllinois; Benzon 2024 multisociety guideline)",),
        ),
        Rule(
            "SCR-STEROID-GLUCOSE",
            1,
            "High blood glucose today with a planned corticosteroid",
            "Some clinics postpone a steroid injection when glucose is above 200 mg/dL, because the steroid raises "
            "it further for days.",
            ("tpi-clinical-facts.md §2.4 (lmtrehab, a clinic page [C])",),
        ),
        Rule(
            "SCR-PNEUMOTHORAX-SITE",
            2,  # v2: landmark guidance at such a site is review (was info); smoking raises it
            "Planned site over the thorax (pneumothorax risk)",
            "Pneumothorax has followed trapezius, serratus anterior and other cervicothoracic injections; the "
            "pleura lies close under these muscles. Thin habitus, COPD and smoking raise the risk; needling by "
            "landmark alone over the chest wall (the intercostal space is an unsafe site) needs the physician's "
            "review, and ultrasound guidance has been proposed to avoid it. The risk must be named in the consent.",
            (
                "FCEP bilateral pneumothorax case (tpi-clinical-facts.md §4)",
                "Seol 2014 rhomboid depth study (tpi-clinical-facts.md §4)",
                "tpi-clinical-facts.md §3.1 patient factors",
                SEED_002,
            ),
        ),
        Rule(
            "SCR-BOTULINUM-TOXIN",
            1,
            "Botulinum toxin planned",
            "Botulinum toxin is off-label for myofascial pain, trials are contradictory, and payers typically need "
            "prior authorization.",
            ("tpi-clinical-facts.md §2.5, §7.2", "Trigger Point Clinic issue 5"),
        ),
        Rule(
            "SCR-VASOVAGAL",
            1,
            "Prior vasovagal reaction",
            "Vasovagal syncope is a listed complication of needling; a patient who has fainted before is treated "
            "lying down.",
            ("patientcareonline, Trigger point injections (tpi-clinical-facts.md §4)",),
        ),
        Rule(
            "SCR-STEROID-SERIES",
            1,
            "Corticosteroid beyond the series limit",
            "Payer policy MP-739 treats a corticosteroid in more than 4 injections in a set as not medically "
            "necessary; repeated steroid exposure also raises glucose and can suppress the adrenal axis.",
            (MP_739, "Benzon 2024 multisociety guideline (tpi-clinical-facts.md §2.4)"),
        ),
        Rule(
            "SCR-STEROID-YEARLY",
            1,
            "Corticosteroid injections in the last 12 months",
            "No TPI-specific yearly steroid ceiling was found; payers cap injections at about 4 in 12 months, and "
            "steroid exposure adds up (glucose, bone density, adrenal suppression).",
            (MP_739, TRIPLE_S, "Benzon 2024 multisociety guideline (tpi-clinical-facts.md §2.4)"),
        ),
        *rules_allergy.RULES,
        *rules_toxin.RULES,
        *rules_bleeding.RULES,
        *rules_conditions.RULES,
    )
}


# --- evaluation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    inp: ScreeningInput
    policy: ScreeningPolicy
    atlas: Atlas
    drugs: DrugCatalog
    blood_thinners: BloodThinnerTable
    allergy_words: AllergyVocabulary

    @property
    def planned_drugs(self) -> tuple[Drug, ...]:
        return tuple(self.drugs.get(injectate.drug) for injectate in self.inp.plan.injectates)

    @property
    def planned_classes(self) -> frozenset[str]:
        return frozenset(drug.drug_class for drug in self.planned_drugs)

    @property
    def steroid_planned(self) -> bool:
        return CORTICOSTEROID in self.planned_classes

    def allergy_match(self, substance: str) -> str:
        """How a recorded allergy matched (see `allergy_classes`); the issue-14 allergy rules use it."""
        return allergy_classes(substance, self.allergy_words, self.drugs)[1]


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(RULES[rule_id], severity, message, **data)


def _site_infection(ctx: _Context) -> list[Finding]:
    if not ctx.inp.today.infection_at_site:
        return []
    return [
        _finding(
            "SCR-SITE-INFECTION",
            "contraindicated",
            "Infection or broken skin at or near a planned site: do not inject through it.",
        )
    ]


def _antibiotics_today(ctx: _Context) -> list[Finding]:
    if not ctx.inp.today.on_antibiotics:
        return []
    return [
        _finding(
            "SCR-ANTIBIOTICS-TODAY",
            "defer",
            "On antibiotics today: defer until the course is finished and the patient is well.",
        )
    ]


def _fever_today(ctx: _Context) -> list[Finding]:
    temperature = ctx.inp.today.temperature
    threshold = Temperature(ctx.policy.fever_threshold_c, "C").describe()
    if temperature is None:
        return [
            _finding(
                "SCR-FEVER-TODAY",
                ctx.policy.missing_temperature_severity,
                f"No temperature recorded today, so fever (at or above {threshold}) has not been ruled out.",
            )
        ]
    if temperature.celsius < ctx.policy.fever_threshold_c:
        return []
    return [
        _finding(
            "SCR-FEVER-TODAY",
            "defer",
            f"Fever today: {temperature.describe()} is at or above {threshold}. Defer until the patient is well.",
            temperature_c=str(temperature.celsius.quantize(Decimal("0.01"))),
        )
    ]


def _unwell_today(ctx: _Context) -> list[Finding]:
    if not ctx.inp.today.feels_unwell:
        return []
    return [_finding("SCR-UNWELL-TODAY", "defer", "The patient feels unwell today: defer until they are well.")]


def recent_event_window(procedure_date: date, policy: ScreeningPolicy = DEFAULT_POLICY) -> tuple[date, date]:
    """The first day of the window and the first day after it: ``[procedure_date - N days, procedure_date)``."""
    return procedure_date - timedelta(days=policy.recent_event_window_days), procedure_date


def event_in_window(event: Event, procedure_date: date, policy: ScreeningPolicy = DEFAULT_POLICY) -> bool:
    """True when any day of ``[event.date, event.last_day]`` falls within the recent-illness window."""
    start, end = recent_event_window(procedure_date, policy)
    return event.date < end and event.last_day >= start


def _recent_illness(ctx: _Context) -> list[Finding]:
    start, _ = recent_event_window(ctx.inp.procedure_date, ctx.policy)
    findings = []
    for event in ctx.inp.events:
        if not event_in_window(event, ctx.inp.procedure_date, ctx.policy):
            continue
        when = event.date.isoformat() if event.end_date is None else f"{event.date.isoformat()} to {event.end_date.isoformat()}"
        findings.append(
            _finding(
                "SCR-RECENT-ILLNESS",
                ctx.policy.recent_event_severity,
                f"{event.type.capitalize()} ({when}) within the {ctx.policy.recent_event_window_days} days before "
                f"the procedure (since {start.isoformat()}): confirm the patient has recovered.",
                event_type=event.type,
                window_start=start.isoformat(),
            )
        )
    return findings


def allergy_classes(substance: str, vocabulary: AllergyVocabulary, drugs: DrugCatalog) -> tuple[frozenset[str], str]:
    """The injectate classes a recorded allergy counts against, and how it was matched.

    How: ``class_word`` | ``catalogue`` | ``other_local_anesthetic`` | ``unknown_caine`` | ``unmatched``.
    An unknown "-caine" returns both local-anesthetic classes (its class is not known).
    """
    term = normalize_term(substance)
    if term in vocabulary.class_terms:
        return vocabulary.class_terms[term], "class_word"
    drug = drugs.resolve(substance)
    if drug is not None:
        return frozenset({drug.drug_class}), "catalogue"
    if term in vocabulary.other_local_anesthetics:
        return frozenset({vocabulary.other_local_anesthetics[term]}), "other_local_anesthetic"
    if " " not in term and term.endswith(vocabulary.unknown_caine_suffix):
        return frozenset(LOCAL_ANESTHETIC_CLASSES), "unknown_caine"
    return frozenset(), "unmatched"


def remaining_alternatives(allergic_classes: frozenset[str], drugs: DrugCatalog) -> tuple[str, ...]:
    """Techniques and injectate classes an allergic patient can still have: saline, dry needling, another class."""
    options: list[str] = []
    if SALINE not in allergic_classes and drugs.ids_of_class(SALINE):
        options.append("saline injection")
    options.append("dry needling")
    for drug_class in sorted(LOCAL_ANESTHETIC_CLASSES - allergic_classes):
        names = ", ".join(drugs.get(drug_id).name for drug_id in drugs.ids_of_class(drug_class))
        if names:
            options.append(f"{drug_class.replace('_', ' ')} ({names})")
    return tuple(options)


def _allergies(ctx: _Context) -> list[Finding]:
    matched: list[tuple[str, frozenset[str], str]] = []
    for substance in ctx.inp.patient.allergies:
        classes, how = allergy_classes(substance, ctx.allergy_words, ctx.drugs)
        matched.append((substance, classes, how))
    certain_classes = frozenset().union(*(classes for _, classes, how in matched if how != "unknown_caine"))
    unknown_caines = [substance for substance, _, how in matched if how == "unknown_caine"]
    alternatives = remaining_alternatives(certain_classes | (LOCAL_ANESTHETIC_CLASSES if unknown_caines else frozenset()), ctx.drugs)

    findings = []
    for drug in ctx.planned_drugs:
        culprits = [substance for substance, classes, how in matched if how != "unknown_caine" and drug.drug_class in classes]
        if not culprits:
            continue
        same_drug = any(ctx.drugs.resolve(substance) == drug for substance in culprits)
        reason = "the same drug" if same_drug else f"the same class ({drug.drug_class.replace('_', ' ')}; cross-reactivity)"
        findings.append(
            _finding(
                "SCR-ALLERGY-INJECTATE",
                "contraindicated",
                f"Allergy recorded to {', '.join(culprits)}: planned {drug.name} is {reason}. Do not use it. "
                f"Options that remain: {'; '.join(alternatives)}.",
                drug=drug.id,
                allergies=culprits,
                alternatives=list(alternatives),
            )
        )
    if unknown_caines:
        planned_anesthetics = [drug.name for drug in ctx.planned_drugs if drug.drug_class in LOCAL_ANESTHETIC_CLASSES]
        severity = "review" if planned_anesthetics else "info"
        planned = f" Planned: {', '.join(planned_anesthetics)}." if planned_anesthetics else ""
        findings.append(
            _finding(
                "SCR-ALLERGY-INJECTATE",
                severity,
                f"Allergy recorded to {', '.join(unknown_caines)}, a local anesthetic whose class (amide or ester) "
                f"is not on file: identify it before any local anesthetic is given.{planned}",
                allergies=unknown_caines,
            )
        )
    # Allergies matching nothing here are SCR-ALLERGY-UNMATCHED (review), or an excipient (rules_allergy).
    return findings


def _anticoagulants(ctx: _Context) -> list[Finding]:
    patient = ctx.inp.patient
    elevated = patient.high_bleeding_risk or "bleeding_disorder" in patient.conditions
    why = "the physician marked high bleeding risk" if patient.high_bleeding_risk else "a bleeding disorder is recorded"
    findings = []
    for medication in patient.medications:
        entry = ctx.blood_thinners.find(medication.name)
        if entry is None and medication.drug_class not in BLOOD_THINNER_CLASSES:
            continue
        drug_class = entry.drug_class if entry else medication.drug_class
        label = f"{entry.name if entry else medication.name} ({drug_class})"
        information = entry.information if entry else "No drug-specific information on file for this medication."
        data: dict[str, Any] = {"medication": medication.name, "drug_class": drug_class}
        if entry:
            data |= {"blood_thinner": entry.id, "drug_sources": list(entry.sources)}
        if elevated:
            reference = (
                f" ASRA interval before HIGH-risk pain procedures, for reference only: {entry.high_risk_hold_reference}."
                if entry
                else ""
            )
            message = (
                f"{label} and {why}: the physician decides, with the prescriber, whether to hold it. "
                f"{information}{reference}"
            )
            findings.append(_finding("SCR-ANTICOAGULANT", "review", message, **data))
        else:
            message = (
                f"{label}: continue it. Trigger point injections are low bleeding risk, and stopping a blood "
                f"thinner carries its own risk of clots. {information}"
            )
            findings.append(_finding("SCR-ANTICOAGULANT", "info", message, **data))
    return findings


def _bleeding_disorder(ctx: _Context) -> list[Finding]:
    if "bleeding_disorder" not in ctx.inp.patient.conditions:
        return []
    return [
        _finding(
            "SCR-BLEEDING-DISORDER",
            "review",
            "Bleeding disorder recorded: the physician reviews it before the procedure.",
        )
    ]


def _pregnancy(ctx: _Context) -> list[Finding]:
    if not ctx.inp.patient.pregnant:
        return []
    return [
        _finding(
            "SCR-PREGNANCY",
            "review",
            "The patient is pregnant: the physician reviews the plan and the local anesthetic dose.",
        )
    ]


def _widespread_pain(ctx: _Context) -> list[Finding]:
    present = sorted(ctx.inp.patient.conditions & ctx.policy.widespread_pain_conditions)
    if not present or ctx.inp.plan.trigger_points_documented:
        return []
    return [
        _finding(
            "SCR-WIDESPREAD-PAIN",
            "review",
            f"{', '.join(condition.replace('_', ' ') for condition in present).capitalize()} recorded and no trigger "
            "points documented for this plan: confirm taut bands with referred pain before injecting.",
            conditions=present,
        )
    ]


def _steroid_diabetes(ctx: _Context) -> list[Finding]:
    if not ctx.steroid_planned or "diabetes" not in ctx.inp.patient.conditions:
        return []
    days = ctx.policy.steroid_glucose_watch_days
    return [
        _finding(
            "SCR-STEROID-DIABETES",
            "info",
            f"Diabetes and a planned corticosteroid: tell the patient blood glucose may run high for about {days} "
            "days and to check it more often.",
            watch_days=days,
        )
    ]


def _steroid_glucose(ctx: _Context) -> list[Finding]:
    glucose = ctx.inp.today.blood_glucose_mg_dl
    limit = ctx.policy.steroid_glucose_review_above_mg_dl
    if not ctx.steroid_planned or glucose is None or glucose <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-GLUCOSE",
            "review",
            f"Blood glucose today {glucose} mg/dL is above {limit} mg/dL with a corticosteroid planned: consider "
            "leaving out the steroid or postponing.",
            glucose_mg_dl=str(glucose),
        )
    ]


def _pneumothorax_site(ctx: _Context) -> list[Finding]:
    patient = ctx.inp.patient
    plan = ctx.inp.plan
    risky = sorted({site.muscle for site in plan.sites if ctx.atlas.muscle(site.muscle).pneumothorax_risk})
    if not risky:
        return []
    factors = [condition.replace("_", " ") for condition in sorted(patient.conditions & ctx.policy.pneumothorax_risk_conditions)]
    if patient.bmi is not None and patient.bmi < ctx.policy.pneumothorax_low_bmi_below:
        factors.append(f"BMI {patient.bmi} (under {ctx.policy.pneumothorax_low_bmi_below})")
    names = ", ".join(ctx.atlas.muscle(muscle_id).name for muscle_id in risky)
    guidance = (
        "Ultrasound guidance is planned."
        if plan.guidance == "ultrasound"
        else "Ultrasound guidance is recommended (the plan says landmark)."
    )
    message = f"Pneumothorax risk at {names}. {guidance} Name pneumothorax in the consent."
    if factors:
        message += f" Patient factors raising the risk: {', '.join(factors)}."
    landmark = plan.guidance == "landmark"
    severity = load_safety_rules().pneumothorax["landmark_severity"] if landmark else "info"
    if factors and _SEVERITY_RANK[severity] < _SEVERITY_RANK["review"]:
        severity = "review"
    return [
        _finding(
            "SCR-PNEUMOTHORAX-SITE",
            severity,
            message,
            muscles=risky,
            risk_factors=factors,
        )
    ]


def _botulinum_toxin(ctx: _Context) -> list[Finding]:
    toxins = [drug.name for drug in ctx.planned_drugs if drug.drug_class == BOTULINUM_TOXIN]
    if not toxins:
        return []
    return [
        _finding(
            "SCR-BOTULINUM-TOXIN",
            "info",
            f"{', '.join(toxins)} planned: off-label for myofascial pain; check that prior authorization is in place "
            "and that the consent names its specific risks.",
        )
    ]


def _vasovagal(ctx: _Context) -> list[Finding]:
    if "prior_vasovagal" not in ctx.inp.patient.conditions:
        return []
    return [
        _finding(
            "SCR-VASOVAGAL",
            "info",
            "Prior vasovagal reaction: treat the patient lying down and observe before they stand.",
        )
    ]


def _steroid_series(ctx: _Context) -> list[Finding]:
    prior = ctx.inp.history.steroid_injections_in_series
    limit = ctx.policy.steroid_series_max
    if not ctx.steroid_planned or prior is None or prior + 1 <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-SERIES",
            "review",
            f"This would be corticosteroid injection {prior + 1} in the series; the limit is {limit}. Consider "
            "leaving out the steroid.",
            count_with_this=prior + 1,
            limit=limit,
        )
    ]


def _steroid_yearly(ctx: _Context) -> list[Finding]:
    if not ctx.steroid_planned:
        return []
    prior = ctx.inp.history.steroid_injections_last_12_months
    limit = ctx.policy.steroid_yearly_max
    if prior is None:
        return [
            _finding(
                "SCR-STEROID-YEARLY",
                ctx.policy.missing_steroid_history_severity,
                "Corticosteroid planned but the number of steroid injections in the last 12 months was not "
                f"given, so the yearly limit ({limit}) was not checked.",
            )
        ]
    if prior + 1 <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-YEARLY",
            "review",
            f"This would be corticosteroid injection {prior + 1} in 12 months; the limit is {limit}. Consider "
            "leaving out the steroid.",
            count_with_this=prior + 1,
            limit=limit,
        )
    ]


EVALUATORS: dict[str, Callable[[_Context], list[Finding]]] = {
    "SCR-SITE-INFECTION": _site_infection,
    "SCR-ALLERGY-INJECTATE": _allergies,
    "SCR-ANTIBIOTICS-TODAY": _antibiotics_today,
    "SCR-FEVER-TODAY": _fever_today,
    "SCR-UNWELL-TODAY": _unwell_today,
    "SCR-RECENT-ILLNESS": _recent_illness,
    "SCR-ANTICOAGULANT": _anticoagulants,
    "SCR-BLEEDING-DISORDER": _bleeding_disorder,
    "SCR-PREGNANCY": _pregnancy,
    "SCR-WIDESPREAD-PAIN": _widespread_pain,
    "SCR-STEROID-DIABETES": _steroid_diabetes,
    "SCR-STEROID-GLUCOSE": _steroid_glucose,
    "SCR-PNEUMOTHORAX-SITE": _pneumothorax_site,
    "SCR-BOTULINUM-TOXIN": _botulinum_toxin,
    "SCR-VASOVAGAL": _vasovagal,
    "SCR-STEROID-SERIES": _steroid_series,
    "SCR-STEROID-YEARLY": _steroid_yearly,
    # issue 14 rule groups, each in its own module
    **rules_allergy.EVALUATORS,
    **rules_toxin.EVALUATORS,
    **rules_bleeding.EVALUATORS,
    **rules_conditions.EVALUATORS,
}


def screening_status(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """The most severe finding's severity; ``ready`` when nothing is above ``info``."""
    worst = max((_SEVERITY_RANK[finding.severity] for finding in findings), default=0)
    return READY if worst == 0 else SEVERITIES[worst]


def evaluate(
    inp: ScreeningInput,
    policy: ScreeningPolicy = DEFAULT_POLICY,
    *,
    atlas: Atlas | None = None,
    drugs: DrugCatalog | None = None,
) -> ScreeningResult:
    """Run every screening rule; findings come most severe first, then in rule-table order."""
    ctx = _Context(
        inp=inp,
        policy=policy,
        atlas=atlas or load_atlas(),
        drugs=drugs or load_drugs(),
        blood_thinners=load_blood_thinners(),
        allergy_words=load_allergy_vocabulary(),
    )
    findings = [finding for evaluator in EVALUATORS.values() for finding in evaluator(ctx)]
    findings.sort(key=lambda finding: -_SEVERITY_RANK[finding.severity])
    return ScreeningResult(status=screening_status(findings), findings=tuple(findings))
