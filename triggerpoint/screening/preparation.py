"""Plain-language preparation instructions for one patient's trigger point procedure.

The clinic protocol (seed page 002) asks patients to report fevers, antibiotics, illness
or hospital stays in the weeks before, to come healthy and off antibiotics, and to keep
taking their medicines unless the physician said otherwise. The instructions are data
(``data/preparation.yaml``, written for a reading grade of 8 or lower); this module picks
the ones that apply to the patient and the plan and fills in their dates and names. The
recent-illness window comes from the same `ScreeningPolicy` the screening rules use, so
the patient is asked about exactly the days the clinician will screen. Each instruction is
written per language (English and Spanish); the patient's preferred language picks one, with
the same placeholders, so every date, name and number is filled in from the same place.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from triggerpoint.catalogues.drugs import DrugCatalog, load_drugs
from triggerpoint.screening.content import (
    DEFAULT_LANGUAGE,
    load_blood_thinners,
    load_preparation_instructions,
)
from triggerpoint.screening.rules import (
    BLOOD_THINNER_CLASSES,
    CORTICOSTEROID,
    DEFAULT_POLICY,
    PatientFacts,
    PlanFacts,
    ScreeningPolicy,
    recent_event_window,
)


@dataclass(frozen=True)
class Instruction:
    id: str
    text: str


SPANISH_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
SPANISH_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)


def patient_date(day: date, language: str = DEFAULT_LANGUAGE) -> str:
    """A date as patients read it in the US: "Monday, June 2, 2025"; in Spanish "lunes, 2 de junio de 2025"."""
    if language == "es":
        return f"{SPANISH_WEEKDAYS[day.weekday()]}, {day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}"
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def blood_thinner_names(patient: PatientFacts) -> tuple[str, ...]:
    """The patient's blood thinners, by the name on their medication list."""
    table = load_blood_thinners()
    return tuple(
        medication.name
        for medication in patient.medications
        if medication.drug_class in BLOOD_THINNER_CLASSES or table.find(medication.name) is not None
    )


def preparation_conditions(patient: PatientFacts, plan: PlanFacts, drugs: DrugCatalog) -> frozenset[str]:
    """The `applies_when` conditions this patient and plan meet (see data/preparation.yaml)."""
    classes = {drugs.get(injectate.drug).drug_class for injectate in plan.injectates}
    conditions = {"always"} | {f"drug_class:{drug_class}" for drug_class in classes}
    if patient.sex == "female":
        conditions.add("female")
    if "prior_vasovagal" in patient.conditions:
        conditions.add("prior_vasovagal")
    if blood_thinner_names(patient):
        conditions.add("blood_thinner")
    if CORTICOSTEROID in classes and "diabetes" in patient.conditions:
        conditions.add("corticosteroid_and_diabetes")
    return frozenset(conditions)


def build_preparation(
    patient: PatientFacts,
    plan: PlanFacts,
    procedure_date: date,
    policy: ScreeningPolicy = DEFAULT_POLICY,
    *,
    drugs: DrugCatalog | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[Instruction, ...]:
    """The instructions that apply to this patient and plan, in the order of the data file, in `language`."""
    drugs = drugs or load_drugs()
    conditions = preparation_conditions(patient, plan, drugs)
    window_start, _ = recent_event_window(procedure_date, policy)
    values = {
        "window_start": patient_date(window_start, language),
        "procedure_date": patient_date(procedure_date, language),
        "blood_thinners": ", ".join(blood_thinner_names(patient)),
        "glucose_watch_days": str(policy.steroid_glucose_watch_days),
    }
    return tuple(
        Instruction(entry.id, entry.text_in(language).format(**values))
        for entry in load_preparation_instructions().entries
        if conditions.intersection(entry.applies_when)
    )
