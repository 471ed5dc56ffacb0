"""Observation: what patients report on the outcome instruments (NRS pain, PEG, percent relief, PGIC).

Registration: one measurement (``outcomes.Measurement``) makes several Observations, so the type is
served by one source per *part* (``all_parts()``: the result of every instrument, then each item of the
multi-item instruments), each one row = one resource, as h-fhir's registry wants:

* ``all_parts()`` - ``(instrument id or None, item id or "")`` pairs; ``records(part, **filters) -> QuerySet``
  (``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD`` ``clinic_id``, ``patient`` search on
  ``patient__public_id``, ``date`` on ``measured_at``; ``category`` is always ``survey``);
* ``mapper(part) -> callable(measurement, *, base_url=None)``, ``id_filter(part)``,
  ``code_filter(part) -> callable(queryset, [(system or None, code)])``; ``patient_of(measurement)``;
* ``to_resources(measurement, *, base_url=None) -> list[dict]`` (all parts, for ``$everything``),
  ``get(id, clinic) -> (measurement, part) | None``, ``resources_for_patient(patient_ids, clinic)``
  (``(measurement, part)`` pairs) and ``to_resource((measurement, part), *, base_url=None)``.

Ids: ``<measurement public id>`` for the result, ``<measurement public id>-<item>`` for an item.

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

import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

from triggerpoint.catalogues.instruments import get_instrument, load_instruments
from triggerpoint.fhir.mapping.clinical_common import (
    OBSERVATION_CATEGORY,
    PROFILE_OBSERVATION_SCREENING,
    UCUM,
    base_or_default,
    codeable,
    fhir_id,
    instant,
    own_system,
    patient_reference,
    procedure_encounter_reference,
    prune,
    scoped,
    standard_coding,
    uuids,
)
from triggerpoint.outcomes import selectors as outcome_selectors

RESULT = ""  # the part that is the instrument's own result
IN_VISIT = {"baseline", "immediate"}  # time points read in the procedure visit itself
PERCENT_ITEMS = {("percent_relief", "relief")}
SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}], "text": "Survey"}
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD, DATE_FIELD = "patient_id", "clinic_id", "patient__public_id", "measured_at"


def item_parts(instrument) -> list[str]:
    """The items sent as Observations of their own: all but the one the instrument is scored by."""
    if len(instrument.items) == 1:
        return []
    return [item.id for item in instrument.items if item.id != instrument.scored_item_id]


def parts(measurement) -> list[str]:
    """The Observations a measurement makes: its result, plus each other answered item when there are several.

    An instrument scored by one of its items (``item:<id>``, NRS's average pain) has that item as its result,
    so the item is not sent twice.
    """
    instrument = get_instrument(measurement.instrument)
    answers = measurement.answers or {}
    return [RESULT, *(item for item in item_parts(instrument) if answers.get(item) is not None)]


@cache
def all_parts() -> tuple[tuple[str | None, str], ...]:
    found: list[tuple[str | None, str]] = [(None, RESULT)]
    for instrument in load_instruments().values():
        found += [(instrument.id, item) for item in item_parts(instrument)]
    return tuple(found)


def records(part=(None, RESULT), **filters):
    instrument_id, item = part
    queryset = outcome_selectors.measurements(**filters)
    if item:
        queryset = (queryset.filter(instrument=instrument_id, answers__has_key=item)
                    .exclude(**{f"answers__{item}": None}))
    return queryset


def patient_of(measurement):
    return measurement.patient


def mapper(part):
    def to_part(measurement, *, base_url: str | None = None) -> dict[str, Any]:
        return to_resource((measurement, part[1]), base_url=base_url)
    return to_part


def id_filter(part):
    suffix = f"-{fhir_id(part[1])}" if part[1] else ""

    def apply(queryset, ids):
        keys = [str(i)[:36] for i in ids if str(i)[36:] == suffix]
        return queryset.filter(public_id__in=uuids(keys))
    return apply


def code_filter(part, base_url: str | None = None):
    """Tokens ``(system or None, code)``: the measurements whose Observation of this part has that code."""
    def apply(queryset, tokens):
        instruments = [i for i in load_instruments().values() if part[0] in (None, i.id)]
        hits = []
        for instrument in instruments:
            if part[1] and part[1] not in instrument.item_ids:
                continue
            concept = codes_of_part(instrument, part[1], base_or_default(base_url))
            coding = concept["coding"][0]
            if any(code == coding["code"] and system in (None, coding["system"]) for system, code in tokens):
                hits.append(instrument.id)
        return queryset.filter(instrument__in=hits)
    return apply


def resources_for_patient(patient_ids, clinic) -> Iterator[tuple]:
    for measurement in scoped(sys.modules[__name__], clinic, patient_id__in=list(patient_ids)):
        for part in parts(measurement):
            yield measurement, part


def get(resource_id: str, clinic):
    text = str(resource_id)
    found = uuids([text[:36]])
    measurement = scoped(sys.modules[__name__], clinic, public_id__in=found).first() if found else None
    if measurement is None:
        return None
    suffix = text[36:]
    for part in parts(measurement):
        if (f"-{fhir_id(part)}" if part else "") == suffix:
            return measurement, part
    return None


def observation_id(measurement, part: str) -> str:
    return fhir_id(f"{measurement.public_id}-{part}" if part else str(measurement.public_id))


def item_coding(instrument, item, base_url: str) -> dict[str, Any]:
    coding, _verified = standard_coding("instrument_item", f"{instrument.id}/{item.id}", base_url, item.text.en)
    return coding


def score_coding(instrument, base_url: str) -> dict[str, Any]:
    """The code of the instrument's result: its LOINC score code when verified (PEG mean score 91147-9)."""
    coding, _verified = standard_coding("instrument_score", instrument.id, base_url, f"{instrument.name} score")
    return coding


def codes_of(measurement, part: str, base_url: str) -> dict[str, Any]:
    """The Observation.code of one part of a measurement."""
    return codes_of_part(get_instrument(measurement.instrument), part, base_url)


def codes_of_part(instrument, part: str, base_url: str) -> dict[str, Any]:
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


def to_resources(measurement, *, base_url: str | None = None) -> list[dict[str, Any]]:
    return [to_resource((measurement, part), base_url=base_url) for part in parts(measurement)]


def to_resource(record, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
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
