"""Reading the `screening/evaluate` JSON contract (ARCHITECTURE §8) into `ScreeningInput`.

`parse_screening_request` refuses a request that is missing a required fact or names an
unknown drug, muscle, unit or code — listing every problem at once — so that a missing fact
can never come out as a silent ``ready``. Every date must lie in its plausible clinical window
(`core.plausible`): the procedure date ``scheduled``, event dates and the last toxin dose
``history`` (past, within 120 years), the INR date ``recorded``. An event may not start on or after the procedure
date: the procedure day's health is reported in ``today``.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from triggerpoint.atlas.catalog import Atlas, load_atlas
from triggerpoint.catalogues.drugs import DrugCatalog, load_drugs
from triggerpoint.core import plausible
from triggerpoint.core.choices import GUIDANCES, SIDES, TECHNIQUES
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.inputs import (
    Event,
    HistoryFacts,
    InrReading,
    Medication,
    PatientFacts,
    PlanFacts,
    PlannedInjectate,
    PlannedSite,
    ScreeningInput,
    Temperature,
    TodayFacts,
    celsius_to_fahrenheit,
)
from triggerpoint.screening.policy import (
    ALLERGY_STATUSES,
    CONDITIONS,
    EVENT_TYPES,
    INPUT_LIMITS,
    MEDICATION_CLASSES,
    SEXES,
    TEMPERATURE_UNITS,
    VIAL_KINDS,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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

    def iso_date(
        self, parent: Mapping[str, Any], key: str, path: str, kind: str, *, required: bool = True
    ) -> date | None:
        """A YYYY-MM-DD date inside the plausible `kind` window of `core.plausible` (None, with the problem, if not)."""
        day = self._iso_date(parent, key, path, required=required)
        reason = plausible.problem(kind, day)
        if reason:
            self.problems.append(f"{path} {reason}")
            return None
        return day

    def _iso_date(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> date | None:
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

    procedure_date = read.iso_date(payload, "procedure_date", "procedure_date", "scheduled")
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
        taken_on = read.iso_date(reading, "date", "patient.inr.date", "recorded")
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
        start = read.iso_date(item, "date", f"{path}.date", "history")
        end = read.iso_date(item, "end_date", f"{path}.end_date", "history", required=False)
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

    guidance = read.choice(section, "guidance", "plan.guidance", GUIDANCES)
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
        section, "last_botulinum_toxin_date", "history.last_botulinum_toxin_date", "history", required=False
    )
    return HistoryFacts(
        steroid_injections_last_12_months=None if yearly is None else int(yearly),
        steroid_injections_in_series=None if series is None else int(series),
        last_botulinum_toxin_date=last_toxin,
    )

