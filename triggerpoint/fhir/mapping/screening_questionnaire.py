"""The pre-procedure screening questionnaire as a Questionnaire, and each screening's answers as a
QuestionnaireResponse (US Core us-core-questionnaireresponse).

Registration (the surface of ``clinical_common``):

* ``records(**filters) -> QuerySet[ScreeningRecord]`` - screenings with answers
  (``screening.selectors.answered_screenings``; ``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD``
  ``clinic_id``, ``patient`` search on ``PATIENT_UUID_FIELD``), ``patient_of``, ``filter_ids``
  (id ``screening-<screening public id>``), ``DATE_FIELD`` (``authored``: when the answers were last sent);
* ``to_resource(screening, *, base_url=None)`` - the QuestionnaireResponse;
* ``questionnaire(*, base_url=None)`` / ``questionnaire_id()`` - the Questionnaire it answers, id
  ``screening-<version of screening/data/patient_text.yaml>``.

The item catalogue is the screening app's: the questions a patient reads on the link or portal page
(``screening/data/patient_text.yaml``, ``questions``, English), the staff-only measurements with the staff
form's words, the event types of ``screening.policy.EVENT_TYPES``, the red flags of
``screening.answers.RED_FLAGS``. Its shape follows the stored answers (``screening.answers``):

* ``recent`` (group): one yes/no question per event type (``recent_fever``, ``recent_antibiotics``,
  ``recent_illness``, ``recent_hospital``, the form's field names); a "yes" nests one
  ``<question>_episode`` group per reported event with its start date (and for antibiotics the end date).
  Answered only when the questionnaire's events were answered ("none" is every question "no");
* ``today`` (group): feels unwell, on antibiotics, infection at the site (booleans), temperature and blood
  glucose (quantities, UCUM), as recorded for the procedure day;
* ``pregnant`` (yes/no/unsure), ``breastfeeding`` (yes/no), ``prior_vasovagal`` (boolean),
  ``steroid_injections_elsewhere_12m`` (integer), ``inr`` (group: value, date), ``red_flags`` (repeating
  choice, recorded by staff), ``new_medications``, ``new_allergies``, ``notes`` (text).

The answers are merged across steps (patient at home, nurse on the day): ``author`` is the patient only
when the last step was the patient's (link or portal); ``source`` is always the patient, whom they are about.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_QUESTIONNAIRE_RESPONSE,
    UCUM,
    base_or_default,
    instant,
    own_system,
    patient_reference,
    prune,
    uuids,
)
from triggerpoint.screening import selectors as screening_selectors
from triggerpoint.screening.answers import RED_FLAGS
from triggerpoint.screening.content import load_patient_text
from triggerpoint.screening.policy import EVENT_TYPES

PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"
DATE_FIELD = "answers_submitted_at"
ID_PREFIX = "screening-"
# Event type -> the question's link id (the patient form's field names, `QuestionnaireForm.EVENT_QUESTIONS`).
EVENT_QUESTIONS = {"fever": "recent_fever", "antibiotics": "recent_antibiotics", "illness": "recent_illness",
                   "hospitalization": "recent_hospital"}
WITH_END_DATE = {"antibiotics"}
PATIENT_SOURCES = {"patient_link", "portal"}
TODAY_FLAGS = ("feels_unwell", "on_antibiotics", "infection_at_site")
TEXTS = ("new_medications", "new_allergies", "notes")
PREGNANCY = (("yes", "Yes"), ("no", "No"), ("unsure", "Not sure"))
BREASTFEEDING = (("yes", "Yes"), ("no", "No"))
TEMPERATURE_UNITS = {"C": "Cel", "F": "[degF]"}
# Staff-only measurements: the staff questionnaire form's words.
STAFF_WORDS = {"temperature": "Temperature today", "blood_glucose_mg_dl": "Blood glucose today (mg/dL)",
               "inr": "Most recent INR", "inr_value": "INR", "inr_date": "Date of that INR",
               "red_flags": "Red flags (recorded by staff)"}
RECENT_TEXT = ("Fever, antibiotics, illness or a hospital stay in the weeks before the procedure "
               "(the clinic's recent-illness window: 4 weeks unless the clinic set another)")


# ---------------------------------------------------------------- records
def records(**filters):
    return screening_selectors.answered_screenings(**filters)


def patient_of(screening):
    return screening.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, ID_PREFIX))


# ---------------------------------------------------------------- the Questionnaire
def questionnaire_id() -> str:
    return f"screening-{load_patient_text().version}"


def questionnaire_url(base_url: str | None = None) -> str:
    return f"{base_or_default(base_url)}/Questionnaire/{questionnaire_id()}"


def _answer_system(base_url: str, name: str) -> str:
    return own_system(base_url, f"screening-{name}")


def _option(base_url: str, name: str, code: str, display: str) -> dict[str, Any]:
    return {"system": _answer_system(base_url, name), "code": code, "display": display}


def _question(link_id: str, text: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "type": kind, **more}


def questionnaire(*, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    words = load_patient_text().group("questions")
    headings = load_patient_text().group("questionnaire")
    recent = []
    for kind in EVENT_TYPES:
        link = EVENT_QUESTIONS[kind]
        episode = [_question(f"{link}_date", words[f"{link}_date"], "date", required=True)]
        if kind in WITH_END_DATE:
            episode.append(_question(f"{link}_end_date", words[f"{link}_end_date"], "date"))
        recent.append(_question(link, words[link], "boolean", item=[
            {"linkId": f"{link}_episode", "text": "Each time", "type": "group", "repeats": True, "item": episode}]))
    today = [_question(flag, words[flag], "boolean") for flag in TODAY_FLAGS]
    today += [_question("temperature", STAFF_WORDS["temperature"], "quantity"),
              _question("blood_glucose_mg_dl", STAFF_WORDS["blood_glucose_mg_dl"], "quantity")]
    items = [
        {"linkId": "recent", "text": RECENT_TEXT, "type": "group", "item": recent},
        {"linkId": "today", "text": headings["right_now"], "type": "group", "item": today},
        _question("pregnant", words["pregnant"], "choice",
                  answerOption=[{"valueCoding": _option(base_url, "pregnant", c, d)} for c, d in PREGNANCY]),
        _question("breastfeeding", words["breastfeeding"], "choice",
                  answerOption=[{"valueCoding": _option(base_url, "breastfeeding", c, d)} for c, d in BREASTFEEDING]),
        _question("prior_vasovagal", words["prior_vasovagal"], "boolean"),
        _question("steroid_injections_elsewhere_12m", words["steroid_injections_elsewhere_12m"], "integer"),
        {"linkId": "inr", "text": STAFF_WORDS["inr"], "type": "group", "item": [
            _question("inr_value", STAFF_WORDS["inr_value"], "decimal", required=True),
            _question("inr_date", STAFF_WORDS["inr_date"], "date", required=True)]},
        _question("red_flags", STAFF_WORDS["red_flags"], "choice", repeats=True, answerOption=[
            {"valueCoding": _option(base_url, "red-flag", flag, flag.replace("_", " ").capitalize())}
            for flag in RED_FLAGS]),
        *(_question(key, words[key], "text") for key in TEXTS),
    ]
    version = str(load_patient_text().version)
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(),
        "url": questionnaire_url(base_url),
        "version": version,
        "name": "PreProcedureScreening",
        "title": "Before your visit: pre-procedure safety screening",
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


# ---------------------------------------------------------------- the QuestionnaireResponse
def _answered(link_id: str, *answers: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "answer": list(answers)}


def _quantity(value: Any, unit: str, code: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code}}


def _recent(events: list[dict[str, Any]], words: dict[str, str]) -> dict[str, Any]:
    questions = []
    for kind in EVENT_TYPES:
        link = EVENT_QUESTIONS[kind]
        episodes = []
        for event in (e for e in events if e.get("type") == kind):
            dates = [_answered(f"{link}_date", {"valueDate": event["date"]})]
            if kind in WITH_END_DATE and event.get("end_date"):
                dates.append(_answered(f"{link}_end_date", {"valueDate": event["end_date"]}))
            episodes.append({"linkId": f"{link}_episode", "item": dates})
        questions.append(_answered(link, {"valueBoolean": bool(episodes), "item": episodes}, text=words[link]))
    return {"linkId": "recent", "item": questions}


def _today(today: dict[str, Any], words: dict[str, str]) -> dict[str, Any] | None:
    items = [_answered(flag, {"valueBoolean": today[flag]}, text=words[flag])
             for flag in TODAY_FLAGS if isinstance(today.get(flag), bool)]
    reading = today.get("temperature")
    if reading and reading.get("value") is not None and reading.get("unit") in TEMPERATURE_UNITS:
        items.append(_answered("temperature", _quantity(reading["value"], f"°{reading['unit']}",
                                                        TEMPERATURE_UNITS[reading["unit"]])))
    if today.get("blood_glucose_mg_dl") is not None:
        items.append(_answered("blood_glucose_mg_dl", _quantity(today["blood_glucose_mg_dl"], "mg/dL", "mg/dL")))
    return {"linkId": "today", "item": items} if items else None


def _items(answers: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
    words = load_patient_text().group("questions")
    items = []
    if isinstance(answers.get("events"), list):
        items.append(_recent(answers["events"], words))
    today = _today(answers["today"], words) if isinstance(answers.get("today"), dict) else None
    if today is not None:
        items.append(today)
    labels = {"pregnant": dict(PREGNANCY), "breastfeeding": dict(BREASTFEEDING)}
    for key in ("pregnant", "breastfeeding"):
        if answers.get(key) in labels[key]:
            coding = _option(base_url, key, answers[key], labels[key][answers[key]])
            items.append(_answered(key, {"valueCoding": coding}, text=words[key]))
    if isinstance(answers.get("prior_vasovagal"), bool):
        items.append(_answered("prior_vasovagal", {"valueBoolean": answers["prior_vasovagal"]},
                               text=words["prior_vasovagal"]))
    if answers.get("steroid_injections_elsewhere_12m") is not None:
        items.append(_answered("steroid_injections_elsewhere_12m",
                               {"valueInteger": int(answers["steroid_injections_elsewhere_12m"])},
                               text=words["steroid_injections_elsewhere_12m"]))
    inr = answers.get("inr")
    if isinstance(inr, dict) and inr.get("value") is not None and inr.get("date"):
        items.append({"linkId": "inr", "item": [_answered("inr_value", {"valueDecimal": inr["value"]}),
                                                _answered("inr_date", {"valueDate": inr["date"]})]})
    flags = [flag for flag in answers.get("red_flags") or [] if flag in RED_FLAGS]
    if flags:
        items.append(_answered("red_flags", *({"valueCoding": _option(
            base_url, "red-flag", flag, flag.replace("_", " ").capitalize())} for flag in flags)))
    for key in TEXTS:
        if answers.get(key):
            items.append(_answered(key, {"valueString": answers[key]}, text=words[key]))
    return items


def to_resource(screening, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    version = str(load_patient_text().version)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": ID_PREFIX + str(screening.public_id),
        "meta": {"profile": [PROFILE_QUESTIONNAIRE_RESPONSE]},
        "questionnaire": f"{questionnaire_url(base_url)}|{version}",
        "status": "completed",
        "subject": patient_reference(screening.patient),
        "authored": instant(screening.answers_submitted_at),
        "author": patient_reference(screening.patient) if screening.answers_source in PATIENT_SOURCES else None,
        "source": patient_reference(screening.patient),
        "item": _items(screening.answers or {}, base_url),
    }
    return prune(resource)
