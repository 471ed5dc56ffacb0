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
Check-ins (``followup.CheckIn``, answered) are a second source: ``checkin_records(**filters)`` (same
fields), ``filter_checkin_ids`` (id ``checkin-<check-in public id>``), mapped by the same
``to_resource``; they answer ``checkin_questionnaire()`` (id ``followup-checkin-<symptom list
version>``): warning signs (a choice from the follow-up symptom list, repeating), temperature
(a quantity), pain now (LOINC 72514-3 when verified), percent relief, free text.
Screening answers are a third source, in ``screening_questionnaire`` (id ``screening-<screening public
id>``, answering the ``screening-<version>`` Questionnaire built from the screening app's question catalogue);
``questionnaire()``/``questionnaires()`` here serve all three kinds of Questionnaire.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from triggerpoint.catalogues.instruments import get_instrument, load_instruments
from triggerpoint.fhir.mapping import screening_questionnaire
from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_QUESTIONNAIRE_RESPONSE,
    UCUM,
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
from triggerpoint.followup import selectors as followup_selectors
from triggerpoint.followup.content import load_symptoms
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
    if str(resource_id).startswith(CHECKIN_PREFIX):
        return filter_checkin_ids(checkin_records(clinic_id=clinic.pk), [resource_id]).first()
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic) -> Iterator:
    """The patients' outcome measurements, then their answered check-ins."""
    yield from for_patients(sys.modules[__name__], patient_ids, clinic)
    yield from checkin_records(clinic_id=clinic.pk, patient_id__in=list(patient_ids))


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
    return [*(questionnaire_for(instrument, base_url=base_url) for instrument in load_instruments().values()),
            checkin_questionnaire(base_url=base_url), screening_questionnaire.questionnaire(base_url=base_url)]


def questionnaire(resource_id: str, *, base_url: str | None = None) -> dict[str, Any] | None:
    if resource_id == checkin_questionnaire_id():
        return checkin_questionnaire(base_url=base_url)
    if resource_id == screening_questionnaire.questionnaire_id():
        return screening_questionnaire.questionnaire(base_url=base_url)
    for instrument in load_instruments().values():
        if questionnaire_id(instrument) == resource_id:
            return questionnaire_for(instrument, base_url=base_url)
    return None


def to_resource(measurement, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    if hasattr(measurement, "triage"):
        return checkin_to_resource(measurement, base_url=base_url)
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


# ---------------------------------------------------------------- check-ins after the procedure
CHECKIN_PREFIX = "checkin-"
CHECKIN_PATIENT_FIELD, CHECKIN_CLINIC_FIELD = "patient_id", "clinic_id"


def checkin_records(**filters):
    return followup_selectors.answered_checkins(**filters)


def filter_checkin_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, CHECKIN_PREFIX))


def checkin_questionnaire_id() -> str:
    return fhir_id(f"followup-checkin-{load_symptoms().version}")


def _symptom_coding(symptom, base_url: str) -> dict[str, Any]:
    return {"system": own_system(base_url, "followup-symptom"), "code": symptom.id, "display": symptom.label_en}


def _pain_now_code(base_url: str) -> dict[str, Any]:
    coding, _verified = standard_coding("instrument_item", "nrs_pain/now", base_url, "Pain now (0-10)")
    return coding


def checkin_questionnaire(*, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    symptoms = load_symptoms()
    resource_id = checkin_questionnaire_id()
    items = [
        {"linkId": "symptoms", "text": "Warning signs noticed since the injection", "type": "choice", "repeats": True,
         "answerOption": [{"valueCoding": _symptom_coding(s, base_url)} for s in symptoms.symptoms]},
        {"linkId": "temperature", "text": "Temperature, if measured", "type": "quantity"},
        {"linkId": "pain_now", "code": [_pain_now_code(base_url)], "text": "Pain right now (0-10)", "type": "integer",
         "extension": [{"url": MIN_VALUE, "valueInteger": 0}, {"url": MAX_VALUE, "valueInteger": 10}]},
        {"linkId": "relief_percent", "text": "Relief since the injection (%)", "type": "integer",
         "extension": [{"url": MIN_VALUE, "valueInteger": 0}, {"url": MAX_VALUE, "valueInteger": 100}]},
        {"linkId": "free_text", "text": "Anything else, in your own words", "type": "text"},
    ]
    return {
        "resourceType": "Questionnaire",
        "id": resource_id,
        "url": f"{base_url}/Questionnaire/{resource_id}",
        "version": str(symptoms.version),
        "name": "FollowupCheckin",
        "title": "Check-in after a trigger point injection",
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def checkin_to_resource(checkin, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    answers = checkin.answers or {}
    symptoms = load_symptoms()
    items = []
    chosen = [symptoms.by_id[s] for s in answers.get("symptoms") or [] if s in symptoms.by_id]
    if chosen:
        items.append({"linkId": "symptoms", "answer": [{"valueCoding": _symptom_coding(s, base_url)} for s in chosen]})
    reading = answers.get("temperature")
    if reading and reading.get("value") is not None:
        unit = {"F": "[degF]", "C": "Cel"}.get(reading.get("unit"), reading.get("unit"))
        items.append({"linkId": "temperature", "answer": [{"valueQuantity": {
            "value": reading["value"], "unit": reading.get("unit"), "system": UCUM, "code": unit}}]})
    for key in ("pain_now", "relief_percent"):
        if answers.get(key) is not None:
            items.append({"linkId": key, "answer": [{"valueInteger": int(answers[key])}]})
    if answers.get("free_text"):
        items.append({"linkId": "free_text", "answer": [{"valueString": answers["free_text"]}]})
    questionnaire_url = f"{base_url}/Questionnaire/{checkin_questionnaire_id()}|{symptoms.version}"
    via_staff = checkin.answered_via == "staff"
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": CHECKIN_PREFIX + str(checkin.public_id),
        "meta": {"profile": [PROFILE_QUESTIONNAIRE_RESPONSE]},
        "questionnaire": questionnaire_url,
        "status": "completed",
        "subject": patient_reference(checkin.patient),
        "authored": instant(checkin.answered_at),
        "author": None if via_staff else patient_reference(checkin.patient),
        "source": patient_reference(checkin.patient),
        "partOf": [{"reference": f"Procedure/{checkin.procedure.public_id}"}] if checkin.procedure.is_signed else [],
        "item": items,
    }
    return prune(resource)
