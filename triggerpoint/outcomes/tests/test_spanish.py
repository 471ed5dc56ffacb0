"""Spanish for Spanish-preferring patients: the outcome questionnaire (link and portal), its thank-you,
closed and invalid-link pages, the pain diary and portal section, and the request message.

The page words are in outcomes/locale/es; the questions and answer labels come from the instrument
files (key ``es``). The answers are the same numbers in every language, so they store the same
measurements and scores.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from triggerpoint.catalogues import instruments as inst
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.core.testing.catalogs import compiled, marked_msgids
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.models import Notification
from triggerpoint.outcomes import display, outcome_requests
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, ProcedureOutcome, RequestStatus
from triggerpoint.outcomes.tests.factories import signed_procedure

APP = Path(__file__).resolve().parents[1]

DAY = date(2026, 1, 5)  # a Monday; the 2-week questions are due on the 19th and open until February 2
OPEN = "2026-01-20 16:00:00"
ANSWERS = {"nrs_pain__now": "3", "nrs_pain__average": "4", "nrs_pain__worst": "6", "percent_relief__relief": "70",
           "pgic__change": "2", "peg3__pain": "3", "peg3__enjoyment": "2", "peg3__activity": "5"}

SPANISH_SAFETY = "Nadie revisa este formulario a toda hora."
ENGLISH_SAFETY = "this form is not watched around the clock"


def _prefer(patient, language: str):
    patient.preferred_language = language
    patient.save(update_fields=["preferred_language"])
    return patient


def _request(patient, physician, time_point="2w") -> OutcomeRequest:
    procedure = signed_procedure(patient, physician, DAY)
    return OutcomeRequest.objects.get(procedure=procedure, time_point=time_point)


def _link(request: OutcomeRequest, valid_for=timedelta(days=20)) -> str:
    _row, token = outbox.issue_link(request.patient, outcome_requests.LINK_PURPOSE, request, valid_for)
    return f"/outcomes/r/{token}/"


# ----------------------------------------------------------------------------- the catalog


def _catalog() -> dict[str, str]:
    return compiled(APP)


def test_the_scan_finds_templates_python_calls_and_noop_marks():
    """Completeness, compilation and overrides are checked for every catalog in core/tests/test_translation_catalogs.py."""
    assert {"Send my answers", "Saved. Thank you.", "two weeks", "This link has expired. Please contact the clinic "
            "for a new one.", "%(clinic)s: how is your pain?"} <= marked_msgids(APP)


# ----------------------------------------------------------------------------- readability

# Not texts on their own: date formats, and the words filled into a sentence (scored in it below).
DATE_FORMATS = {"F j, Y", "F d, Y", "M j", "M d", "M Y"}
FRAGMENTS = {*display.PATIENT_TIME_POINTS.values(), *outcome_requests._WHEN.values(), "some time",  # noqa: SLF001
             "Ultrasound", "Landmark (palpation)"}
SAMPLE = {"date": "2 de febrero de 2026", "clinic": "Alpha Test Clinic", "when": "2 semanas", "pain": "4",
          "days": "14", "name": "Pat",
          "question": "¿Qué tan fuerte es su dolor en este momento?"}


def _standalone_texts():
    for msgid, msgstr in _catalog().items():
        if msgid and msgid not in DATE_FORMATS and msgid not in FRAGMENTS:
            yield msgid, msgstr % SAMPLE if "%(" in msgstr else msgstr


@pytest.mark.parametrize(("msgid", "text"), list(_standalone_texts()), ids=lambda value: str(value)[:40])
def test_every_spanish_text_is_fairly_easy_or_easier(msgid, text):
    assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA, (msgid, text)


def test_the_fragments_read_fairly_easy_in_their_sentences():
    catalog = _catalog()
    for when in outcome_requests._WHEN.values():  # noqa: SLF001
        sentence = catalog["Hello %(name)s, it has been %(when)s since your injection at %(clinic)s."] % {
            **SAMPLE, "when": catalog[when]}
        assert spanish_fernandez_huerta(sentence) >= SPANISH_MIN_FERNANDEZ_HUERTA, sentence
    for when in display.PATIENT_TIME_POINTS.values():
        sentence = catalog["%(date)s: pain %(pain)s/10 (%(when)s)"] % {**SAMPLE, "when": catalog[when]}
        assert spanish_fernandez_huerta(sentence) >= SPANISH_MIN_FERNANDEZ_HUERTA, sentence


def test_the_readability_check_can_fail():
    dense = ("La cumplimentación del cuestionario autoadministrado posibilita la monitorización longitudinal "
             "de la sintomatología dolorosa postintervencionista.")
    assert spanish_fernandez_huerta(dense) < SPANISH_MIN_FERNANDEZ_HUERTA


# ----------------------------------------------------------------------------- the message


@pytest.mark.django_db
def test_a_spanish_speaking_patient_gets_the_request_message_in_spanish(patient, physician):
    _prefer(patient, "es")
    with freeze_time("2026-01-05 16:00:00"):
        request = _request(patient, physician)
    note = Notification.objects.get(kind=outcome_requests.REQUEST_KIND, related_id=str(request.public_id))
    assert note.subject == "Alpha Test Clinic: ¿cómo está su dolor?"
    assert note.body.startswith("Hola, Pat: ya pasaron dos semanas desde su inyección en Alpha Test Clinic. ")
    assert "Cuéntenos cómo está su dolor ahora (le toma unos 2 minutos): http" in note.body
    assert "El enlace funciona hasta el 2 de febrero de 2026. También puede responder en su portal de paciente." in note.body
    for english in ("Hello", "Please tell us", "The link works", "February", "2026-02-02"):
        assert english not in note.body
    spanish = {n.body.split(":")[1].split(" desde")[0] for n in Notification.objects.filter(kind=outcome_requests.REQUEST_KIND)}
    assert spanish == {" ya pasaron dos semanas", " ya pasaron seis semanas", " ya pasaron doce semanas"}
    assert spanish_fernandez_huerta(f"{note.subject}. {note.body}") >= SPANISH_MIN_FERNANDEZ_HUERTA


@pytest.mark.django_db
def test_an_english_speaking_patient_still_gets_the_english_message(patient, physician, client):
    _prefer(patient, "en")
    with freeze_time("2026-01-05 16:00:00"):
        request = _request(patient, physician)
    note = Notification.objects.get(kind=outcome_requests.REQUEST_KIND, related_id=str(request.public_id))
    url = re.search(r"http\S+/outcomes/r/\S+/", note.body).group(0)
    assert note.subject == "Alpha Test Clinic: how is your pain?"
    assert note.body == (
        "Hello Pat, it has been two weeks since your injection at Alpha Test Clinic. "
        f"Please tell us how your pain is now (about 2 minutes): {url}\n"
        "The link works until February 02, 2026. You can also answer in your patient portal."
    )


# ----------------------------------------------------------------------------- the link pages


@pytest.mark.django_db
def test_a_spanish_speaking_patient_opens_the_questionnaire_in_spanish(client, patient, physician):
    _prefer(patient, "es")
    with freeze_time(OPEN):
        request = _request(patient, physician)
        response = client.get(_link(request), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="es">' in html
    assert "Sobre su inyección del 5 de enero de 2026 en Alpha Test Clinic (control de las 2 semanas)." in html
    assert "Enviar mis respuestas" in html and SPANISH_SAFETY in html and "911" in html
    # the instrument files' Spanish: questions, anchors and choices
    for instrument_id in request.instruments:
        for item in inst.get_instrument(instrument_id).items:
            assert item.text.es in html and item.text.en not in html
    assert "Muchísimo mejor" in html and "Sin dolor" in html and "Very much improved" not in html
    for english in ("Send my answers", "About your injection", ENGLISH_SAFETY, "weeks check", "No pain"):
        assert english not in html
    assert 'value="2"' in html and 'name="pgic__change"' in html  # the answers are the same numbers


@pytest.mark.django_db
def test_an_english_speaking_patient_still_opens_it_in_english(client, patient, physician):
    _prefer(patient, "en")
    with freeze_time(OPEN):
        html = client.get(_link(_request(patient, physician)), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "About your injection on January 5, 2026 at Alpha Test Clinic (2 weeks check)." in html
    assert "Send my answers" in html and ENGLISH_SAFETY in html and "How bad is your pain right now?" in html
    assert "Enviar mis respuestas" not in html and "¿Qué tan fuerte" not in html and '<html lang="en">' in html


def _stored(request: OutcomeRequest):
    rows = Measurement.objects.filter(request=request).order_by("instrument")
    return [(m.instrument, m.instrument_version, m.time_point, m.answers, m.score, m.source) for m in rows]


def _outcome_row(request: OutcomeRequest):
    row = ProcedureOutcome.objects.get(procedure=request.procedure)
    return {k: getattr(row, k) for k in ("pain_2w", "relief_2w", "relief_days", "relief_event")}


@pytest.mark.django_db
def test_the_same_answers_on_the_spanish_page_store_the_same_measurements_and_scores(
    client, patient, other_patient, physician
):
    _prefer(patient, "en")
    _prefer(other_patient, "es")
    with freeze_time(OPEN):
        english, spanish = _request(patient, physician), _request(other_patient, physician)
        done_en = client.post(_link(english), ANSWERS)
        done_es = client.post(_link(spanish), ANSWERS)
    assert done_en.status_code == done_es.status_code == 200
    assert "We have your answers." in done_en.content.decode()
    html = done_es.content.decode()
    assert "Ya tenemos sus respuestas. Su equipo de salud las verá en su expediente." in html and "Thank you" not in html
    assert _stored(spanish) == _stored(english)
    assert len(_stored(spanish)) == 4 and all(row[4] is not None for row in _stored(spanish))
    assert _outcome_row(spanish) == _outcome_row(english)
    for request in (english, spanish):
        request.refresh_from_db()
        assert request.status == RequestStatus.COMPLETED


@pytest.mark.django_db
def test_a_spanish_speaking_patient_reads_the_problems_in_spanish(client, patient, physician):
    _prefer(patient, "es")
    with freeze_time(OPEN):
        link = _link(_request(patient, physician))
        wrong = client.post(link, {"nrs_pain__now": "12"})
        blank = client.post(link, {})
    html = wrong.content.decode()
    assert wrong.status_code == 422
    assert ("Por favor, elija una de las respuestas de esta pregunta: ¿Qué tan fuerte es su dolor en este momento?"
            in html) and "Por favor, revise sus respuestas:" in html
    assert "out of range" not in html and "nrs_pain" not in html.split("form-errors")[1].split("</div>")[0]
    assert blank.status_code == 422 and "Por favor, conteste al menos una pregunta." in blank.content.decode()
    assert "every question was left blank" not in blank.content.decode()


@pytest.mark.django_db
def test_a_spanish_speaking_patient_sees_the_answered_and_closed_pages_in_spanish(client, patient, physician):
    _prefer(patient, "es")
    with freeze_time(OPEN):
        request = _request(patient, physician)
        link = _link(request, valid_for=timedelta(days=60))
        client.post(link, ANSWERS)
        again = client.get(link).content.decode()
    assert "Gracias" in again and "Thank you" not in again
    later = OutcomeRequest.objects.get(procedure=request.procedure, time_point="6w")
    with freeze_time("2026-03-20 16:00:00"):  # the 6-week questions closed on March 16
        closed = client.get(_link(later)).content.decode()
    assert "Este cuestionario ya cerró" in closed and "díganos en su próxima visita o llame a la clínica" in closed
    assert "This questionnaire is closed" not in closed


@pytest.mark.django_db
def test_an_expired_link_is_refused_in_the_patients_language(client, patient, other_patient, physician):
    _prefer(patient, "es")
    _prefer(other_patient, "en")
    with freeze_time(OPEN):
        spanish, english = _request(patient, physician), _request(other_patient, physician)
        links = _link(spanish, timedelta(days=1)), _link(english, timedelta(days=1))
    with freeze_time("2026-01-25 16:00:00"):
        refused_es = client.get(links[0], HTTP_ACCEPT_LANGUAGE="en")
        refused_en = client.get(links[1], HTTP_ACCEPT_LANGUAGE="es")
        unknown = client.get("/outcomes/r/not-a-token/", HTTP_ACCEPT_LANGUAGE="en")
    html = refused_es.content.decode()
    assert refused_es.status_code == 404 and '<html lang="es">' in html
    assert "Este enlace ya venció. Por favor, pida uno nuevo a la clínica." in html
    assert "Este enlace no se puede usar" in html and "También puede responder en su portal de paciente" in html
    assert "expired" not in html and "This link cannot be used" not in html
    html = refused_en.content.decode()
    assert "This link has expired. Please contact the clinic for a new one." in html and "venció" not in html
    assert unknown.status_code == 404 and "This link is not valid." in unknown.content.decode()


# ----------------------------------------------------------------------------- the portal


@pytest.mark.django_db
def test_the_portal_section_and_questionnaire_are_spanish_for_a_spanish_speaking_patient(client, patient, physician):
    _prefer(patient, "es")
    client.force_login(patient.portal_user)
    with freeze_time(OPEN):
        request = _request(patient, physician)
        portal = client.get("/portal/").content.decode()
        page = client.get(f"/outcomes/portal/questionnaires/{request.public_id}/").content.decode()
        done = client.post(f"/outcomes/portal/questionnaires/{request.public_id}/", ANSWERS).content.decode()
    assert "Responda las preguntas de las 2 semanas sobre su inyección del 5 de enero" in portal
    assert "Lleve un diario de dolor: anote un número del 0 al 10 cuando quiera." in portal
    assert "Abrir mi diario de dolor" in portal and "Open my pain diary" not in portal and "Answer the 2 weeks" not in portal
    assert "Enviar mis respuestas" in page and "Send my answers" not in page
    assert "Volver a mi página" in done and "Back to my page" not in done
    assert Measurement.objects.filter(request=request, source="portal").count() == 4


@pytest.mark.django_db
def test_the_pain_diary_is_spanish_for_a_spanish_speaking_patient(client, patient, physician):
    _prefer(patient, "es")
    client.force_login(patient.portal_user)
    with freeze_time(OPEN):
        _request(patient, physician)
        page = client.get("/outcomes/portal/diary/").content.decode()
        missing = client.post("/outcomes/portal/diary/", {"nrs_pain__average": "4"})
        wrong = client.post("/outcomes/portal/diary/", {"nrs_pain__now": "11"})
        saved = client.post("/outcomes/portal/diary/", {"nrs_pain__now": "5"}, follow=True).content.decode()
    assert "Mi diario de dolor" in page and "(no es obligatoria)" in page and "Guardar" in page
    assert "¿Qué tan fuerte es su dolor en este momento?" in page and "El peor dolor que pueda imaginar" in page
    # the chart: its words, its tooltips and its dates
    assert "El dolor con el tiempo" in page and "Antes del tratamiento" in page
    assert "2026-01-05: dolor 7/10 (antes del tratamiento)" in page and "29 Dic" in page
    for english in ("My pain diary", "(optional)", "Pain over time", "Before the procedure", "pain 7/10", "Dec 29",
                    "Worst pain you can imagine"):
        assert english not in page
    assert missing.status_code == 422
    assert "Por favor, elija un número para su dolor en este momento." in missing.content.decode()
    assert wrong.status_code == 422 and "Por favor, elija una de las respuestas de esta pregunta" in wrong.content.decode()
    assert "Ya lo guardamos. Gracias." in saved and "Sus notas más recientes" in saved and "5/10" in saved


@pytest.mark.django_db
def test_the_pain_diary_stays_english_for_an_english_speaking_patient(client, patient, physician):
    _prefer(patient, "en")
    client.force_login(patient.portal_user)
    with freeze_time(OPEN):
        _request(patient, physician)
        page = client.get("/outcomes/portal/diary/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
        saved = client.post("/outcomes/portal/diary/", {"nrs_pain__now": "5"}, follow=True).content.decode()
    assert "My pain diary" in page and "Pain over time" in page and "2026-01-05: pain 7/10 (baseline (before the" in page
    assert "Dec 29" in page and "Mi diario" not in page and "Dic" not in page
    assert "Saved. Thank you." in saved


@pytest.mark.django_db
def test_the_staff_outcomes_page_stays_english_for_a_spanish_speaking_patient(login_as, physician, patient):
    _prefer(patient, "es")
    with freeze_time(OPEN):
        _request(patient, physician)
        staff = login_as(physician)
        html = staff.get(f"/outcomes/patients/{patient.public_id}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Pain over time" in html and "pain 7/10" in html and "Dec 29" in html
    assert "El dolor con el tiempo" not in html and "dolor 7/10" not in html
