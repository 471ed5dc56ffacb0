"""QuestionnaireResponse and Questionnaire: the outcome instruments patients answer.

Registration (see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[Measurement]`` (``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD``
  ``clinic_id``, ``patient`` search on ``patient__public_id``);
* ``to_resource(measurement, *, base_url=None) -> dict`` - the QuestionnaireResponse of one completed
  instrument, id = the measurement's public id (the Observations of the same measurement are
  ``derivedFrom`` it); ``patient_of``, ``filter_ids``, ``get``, ``resources_for_patient``;
* ``questionnaire(questionnaire_id, *, base_url=None) -> dict | None`` and
  ``questionnaires(*, base_url=None) -> list[dict]`` - the Questionnaire each answers, one per
  instrument version (id ``instrument-<instrument>-<version>``), built from the instrument catalogue;
  not patient data, so not a registry source (which needs a patient per record).

US Core QuestionnaireResponse: ``questionnaire`` is the canonical URL of our Questionnaire with its
version; items carry the instrument's English wording; ranges are integers, choices a Coding of the
instrument's answer system with the label, the same Coding the Questionnaire's ``answerOption`` lists.
Screening questionnaires and check-ins are not mapped here yet (their answers are nested JSON with
no item catalogue to build a Questionnaire from; see the report).
"""

from __future__ import annotations

import sys
from typing import Any

from triggerpoint.catalogues.instruments import get_instrument, load_instruments
from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_QUESTIONNAIRE_RESPONSE,
    base_or_default,
    fhir_id,
    first_by_id,
    for_patients,
    instant,
    own_system,
    patient_reference,
    procedure_encounter_reference,
    prune,
    standard_coding,
    uuids,
)
from triggerpoint.outcomes import selectors as outcome_selectors

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
IN_VISIT = {"baseline", "immediate"}


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"


def records(**filters):
    return outcome_selectors.measurements(**filters)


def patient_of(measurement):
    return measurement.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids))


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


def questionnaire_id(instrument) -> str:
    return fhir_id(f"instrument-{instrument.id}-{instrument.version}")


def questionnaire_url(instrument, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/Questionnaire/{questionnaire_id(instrument)}"


def answer_system(instrument, base_url: str) -> str:
    return own_system(base_url, fhir_id(f"{instrument.id}-answers"))


def _choice_coding(instrument, choice, base_url: str) -> dict[str, Any]:
    return {"system": answer_system(instrument, base_url), "code": str(choice.value), "display": choice.label.en}


def questionnaire_for(instrument, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    items = []
    for item in instrument.items:
        coding, _verified = standard_coding("instrument_item", f"{instrument.id}/{item.id}", base_url, item.text.en)
        entry: dict[str, Any] = {"linkId": item.id, "code": [coding], "text": item.text.en, "required": False}
        if item.response_type == "choice":
            entry["type"] = "choice"
            entry["answerOption"] = [{"valueCoding": _choice_coding(instrument, c, base_url)} for c in item.choices]
        else:
            entry["type"] = "integer"
            entry["extension"] = [{"url": MIN_VALUE, "valueInteger": item.min_value},
                                  {"url": MAX_VALUE, "valueInteger": item.max_value}]
        items.append(entry)
    instrument_code, _verified = standard_coding("instrument", instrument.id, base_url, instrument.name)
    resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument),
        "url": questionnaire_url(instrument, base_url),
        "version": instrument.version,
        "name": "".join(part.capitalize() for part in fhir_id(instrument.id).split("-")),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "code": [instrument_code],
        "copyright": instrument.licence,
        "item": items,
    }
    return prune(resource)


def questionnaires(*, base_url: str | None = None) -> list[dict[str, Any]]:
    return [questionnaire_for(instrument, base_url=base_url) for instrument in load_instruments().values()]


def questionnaire(resource_id: str, *, base_url: str | None = None) -> dict[str, Any] | None:
    for instrument in load_instruments().values():
        if questionnaire_id(instrument) == resource_id:
            return questionnaire_for(instrument, base_url=base_url)
    return None


def to_resource(measurement, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    instrument = get_instrument(measurement.instrument)
    answers = measurement.answers or {}
    items = []
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        if item.response_type == "choice":
            chosen = next((c for c in item.choices if c.value == value), None)
            answer = ({"valueCoding": _choice_coding(instrument, chosen, base_url)} if chosen
                      else {"valueInteger": int(value)})
        else:
            answer = {"valueInteger": int(value)}
        items.append({"linkId": item.id, "text": item.text.en, "answer": [answer]})
    version_url = f"{questionnaire_url(instrument, base_url)}|{instrument.version}"
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(measurement.public_id),
        "meta": {"profile": [PROFILE_QUESTIONNAIRE_RESPONSE]},
        "questionnaire": version_url,
        "status": "completed",
        "subject": patient_reference(measurement.patient),
        "authored": instant(measurement.measured_at),
        "author": patient_reference(measurement.patient),
        "source": patient_reference(measurement.patient),
        "item": items,
    }
    procedure = measurement.procedure
    if procedure is not None and procedure.is_signed:
        resource["partOf"] = [{"reference": f"Procedure/{procedure.public_id}"}]
        if measurement.time_point in IN_VISIT:
            resource["encounter"] = procedure_encounter_reference(procedure)
    return prune(resource)
