"""Observation: what patients report on the outcome instruments (NRS pain, PEG, percent relief, PGIC).

Registration:

* ``to_resources(measurement, *, base_url: str) -> list[dict]`` - every Observation of one completed
  instrument (``outcomes.Measurement``); ``to_resource((measurement, part), *, base_url)`` maps one part;
* ``get(resource_id: str, clinic) -> (measurement, part) | None`` - id ``<measurement public id>`` for the
  instrument's result and ``<measurement public id>-<item>`` for an item of a multi-item instrument;
* ``resources_for_patient(patient_ids, clinic) -> iterator of (measurement, part)`` - every Observation
  of the patients' measurements (``patient=`` with ``code``/``category``/``date`` filtered by the caller:
  category is always ``survey``, date is ``effectiveDateTime``; :func:`codes_of` gives the codes).

Shape: US Core Observation Screening Assessment (category ``survey``, the profile US Core 6.1.0 gives
survey answers). A one-item instrument (percent relief, PGIC) is one Observation; a multi-item one
(NRS now/average/worst, PEG) is one Observation per answered item plus the instrument's result whose
``hasMember`` lists them (LOINC's panel pattern; an instrument scored by one item, NRS's average pain, has that item as the
result). Each is ``derivedFrom`` the QuestionnaireResponse of
the same measurement and ``partOf`` the Procedure it follows (the note the outcome belongs to).

Codes: LOINC only where the standard-codes table (``catalogues.standard_codes``) has a verified row -
results by ``instrument_score``, items by ``instrument_item``; a row that is unverified or has no code
(NRS "worst", PGIC, percent relief) is sent in our own system (``<base>/CodeSystem/instrument-score``,
``.../instrument-item``) with the instrument's wording as display: marked ours, never invented.
Values: ranges as ``{score}`` UCUM quantities (percent relief in ``%``), PGIC's choice as a coded
answer with its label.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triggerpoint.catalogues.instruments import get_instrument
from triggerpoint.fhir.mapping.clinical_common import (
    OBSERVATION_CATEGORY,
    PROFILE_OBSERVATION_SCREENING,
    UCUM,
    codeable,
    fhir_id,
    instant,
    own_system,
    patient_reference,
    procedure_encounter_reference,
    prune,
    standard_coding,
)
from triggerpoint.outcomes import selectors as outcome_selectors

RESULT = ""  # the part that is the instrument's own result
IN_VISIT = {"baseline", "immediate"}  # time points read in the procedure visit itself
PERCENT_ITEMS = {("percent_relief", "relief")}
SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}], "text": "Survey"}
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def parts(measurement) -> list[str]:
    """The Observations a measurement makes: its result, plus each other answered item when there are several.

    An instrument scored by one of its items (``item:<id>``, NRS's average pain) has that item as its result,
    so the item is not sent twice.
    """
    instrument = get_instrument(measurement.instrument)
    if len(instrument.items) == 1:
        return [RESULT]
    answered = [item.id for item in instrument.items
                if (measurement.answers or {}).get(item.id) is not None and item.id != instrument.scored_item_id]
    return [RESULT, *answered]


def observation_id(measurement, part: str) -> str:
    return fhir_id(f"{measurement.public_id}-{part}" if part else str(measurement.public_id))


def resources_for_patient(patient_ids, clinic) -> Iterator[tuple]:
    for measurement in outcome_selectors.measurements_for_patients(patient_ids, clinic):
        for part in parts(measurement):
            yield measurement, part


def get(resource_id: str, clinic):
    text = str(resource_id)
    measurement = outcome_selectors.measurement(clinic, text[:36])
    if measurement is None:
        return None
    suffix = text[36:]
    for part in parts(measurement):
        if (f"-{fhir_id(part)}" if part else "") == suffix:
            return measurement, part
    return None


def item_coding(instrument, item, base_url: str) -> dict[str, Any]:
    coding, _verified = standard_coding("instrument_item", f"{instrument.id}/{item.id}", base_url, item.text.en)
    return coding


def score_coding(instrument, base_url: str) -> dict[str, Any]:
    """The code of the instrument's result: its LOINC score code when verified (PEG mean score 91147-9)."""
    coding, _verified = standard_coding("instrument_score", instrument.id, base_url, f"{instrument.name} score")
    return coding


def codes_of(measurement, part: str, base_url: str) -> dict[str, Any]:
    """The Observation.code of one part (for the registry's ``code=`` search)."""
    instrument = get_instrument(measurement.instrument)
    if part == RESULT and len(instrument.items) > 1:
        return codeable(score_coding(instrument, base_url), f"{instrument.name} score")
    item = instrument.item(part or instrument.items[0].id)
    return codeable(item_coding(instrument, item, base_url), item.text.en)


def answer_value(instrument, item, value, base_url: str) -> dict[str, Any]:
    """``value[x]`` for one answer: a coded choice with its label, else a UCUM quantity."""
    if item.response_type == "choice":
        labels = {choice.value: choice.label.en for choice in item.choices}
        coding = {"system": own_system(base_url, fhir_id(f"{instrument.id}-answers")), "code": str(value),
                  "display": labels.get(value)}
        return {"valueCodeableConcept": prune({"coding": [coding], "text": labels.get(value)})}
    if (instrument.id, item.id) in PERCENT_ITEMS:
        return {"valueQuantity": {"value": value, "unit": "%", "system": UCUM, "code": "%"}}
    return {"valueQuantity": {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}}


def to_resources(measurement, *, base_url: str) -> list[dict[str, Any]]:
    return [to_resource((measurement, part), base_url=base_url) for part in parts(measurement)]


def to_resource(record, *, base_url: str) -> dict[str, Any]:
    measurement, part = record
    instrument = get_instrument(measurement.instrument)
    answers = measurement.answers or {}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(measurement, part),
        "meta": {"profile": [PROFILE_OBSERVATION_SCREENING]},
        "status": "final",
        "category": [SURVEY],
        "code": codes_of(measurement, part, base_url),
        "subject": patient_reference(measurement.patient),
        "effectiveDateTime": instant(measurement.measured_at),
        "issued": instant(measurement.created_at),
        "performer": [patient_reference(measurement.patient)],
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{measurement.public_id}"}],
        "note": [{"text": f"Time point: {measurement.get_time_point_display()}"}],
    }
    procedure = measurement.procedure
    if procedure is not None and procedure.is_signed:
        resource["partOf"] = [{"reference": f"Procedure/{procedure.public_id}"}]
        if measurement.time_point in IN_VISIT:
            resource["encounter"] = procedure_encounter_reference(procedure)
    if part == RESULT and len(instrument.items) > 1:
        if measurement.score is not None:
            resource["valueQuantity"] = {"value": measurement.score, "unit": "{score}", "system": UCUM, "code": "{score}"}
        else:
            resource["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "not-performed"}],
                                            "text": "Too few items answered to score"}
        resource["hasMember"] = [{"reference": f"Observation/{observation_id(measurement, p)}"}
                                 for p in parts(measurement) if p != RESULT]
    else:
        item = instrument.item(part or instrument.items[0].id)
        value = answers.get(item.id)
        if value is None:
            resource["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "asked-unknown"}]}
        else:
            resource.update(answer_value(instrument, item, value, base_url))
    return prune(resource)
