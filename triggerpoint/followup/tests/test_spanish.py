"""Spanish for Spanish-preferring patients: the triage instructions (data/instructions.yaml) and
the check-in pages' words (followup/locale/es), through the real link and portal flows."""

from __future__ import annotations

import re
import string
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.core.readability import (
    ENGLISH_MAX_GRADE,
    SPANISH_MIN_FERNANDEZ_HUERTA,
    english_grade,
    spanish_fernandez_huerta,
)
from triggerpoint.followup import display
from triggerpoint.followup.content import _read_yaml, load_instructions
from triggerpoint.followup.models import Alert, CheckIn
from triggerpoint.followup.tests.factories import EVENING
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, instruction_values
from triggerpoint.notifications.services import issue_link

APP = Path(__file__).resolve().parents[1]
SECTIONS = ("dispositions", "extras", "self_care_advice")
ENTRIES = [(section, key) for section in SECTIONS for key in _read_yaml("instructions.yaml")[section]]


# Phrases of the emergency instruction; each language must show its own and not the other's.
SPANISH_EMERGENCY = "No maneje usted"
ENGLISH_EMERGENCY = "Do not drive yourself"


def _text(section: str, key: str, language: str) -> str:
    return _read_yaml("instructions.yaml")[section][key]["text"][language]


def _filled(text: str) -> str:
    """The text as the patient reads it: placeholders filled the way triage fills them."""
    return text.format(**instruction_values(DEFAULT_THRESHOLDS))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# ----------------------------------------------------------------------------- the instructions


def test_there_are_instructions_to_check():
    assert len(ENTRIES) >= 13 and ("dispositions", "emergency") in ENTRIES and ("extras", "pneumothorax") in ENTRIES


@pytest.mark.parametrize(("section", "key"), ENTRIES)
def test_every_instruction_has_a_spanish_text_of_its_own(section, key):
    english, spanish = _text(section, key, "en"), _text(section, key, "es")
    assert spanish.strip() and spanish != english
    assert getattr(load_instructions("es"), section)[key] == spanish  # the loader picks it, no fallback


@pytest.mark.parametrize(("section", "key"), ENTRIES)
def test_spanish_uses_the_same_placeholders_and_numbers_as_english(section, key):
    english, spanish = _text(section, key, "en"), _text(section, key, "es")
    assert _placeholders(spanish) == _placeholders(english)
    # 911, 30 minutes, 15 to 20 minutes...: a number said in one language is said in the other.
    assert set(re.findall(r"\d+", spanish)) == set(re.findall(r"\d+", english))


@pytest.mark.parametrize(("section", "key"), ENTRIES)
def test_spanish_instructions_are_fairly_easy_or_easier(section, key):
    assert spanish_fernandez_huerta(_filled(_text(section, key, "es"))) >= SPANISH_MIN_FERNANDEZ_HUERTA


@pytest.mark.parametrize(("section", "key"), ENTRIES)
def test_english_instructions_read_at_grade_8_or_below(section, key):
    assert english_grade(_filled(_text(section, key, "en"))) <= ENGLISH_MAX_GRADE


def test_the_spanish_reading_ease_check_can_fail():
    dense = ("La administración intramuscular de anestésicos locales puede ocasionar manifestaciones neurológicas "
             "prodrómicas, consecuentemente requiriendo evaluación hospitalaria inmediata y monitorización continua.")
    assert spanish_fernandez_huerta(dense) < SPANISH_MIN_FERNANDEZ_HUERTA


def test_the_safety_critical_spanish_texts_say_what_the_english_says():
    es = load_instructions("es")
    assert "911" in es.dispositions["emergency"] and SPANISH_EMERGENCY in es.dispositions["emergency"]
    assert "30 minutos" in es.dispositions["urgent"] and "911" in es.dispositions["urgent"]
    assert "guardia" in es.dispositions["urgent"]
    assert "neumotórax" in es.extras["pneumothorax"] and "pulmón colapsado" in es.extras["pneumothorax"]
    assert "anestesia local" in es.extras["anaesthetic_reaction"]
    assert "{fever_f}" in es.extras["safety_net"] and "{fever_days}" in es.extras["safety_net"]
    assert "{site_days}" in es.extras["safety_net"] and "{site_days}" in es.dispositions["routine"]
    assert "{toxin_weeks}" in es.extras["toxin_safety_net"] and "911" in es.extras["toxin_safety_net"]


def test_an_unknown_language_still_gets_english():
    assert load_instructions("fr").dispositions == load_instructions("en").dispositions


# ----------------------------------------------------------------------------- the page words


# Completeness and compilation of followup/locale are checked with every catalog in core/tests/test_translation_catalogs.py.


# ----------------------------------------------------------------------------- the real flows



def _prefer(patient, language: str) -> None:
    patient.preferred_language = language
    patient.save(update_fields=["preferred_language"])


def link_for(checkin, purpose="followup.checkin", valid_for=timedelta(hours=48)):
    _link, raw = issue_link(checkin.patient, purpose, checkin, valid_for)
    return raw


@pytest.mark.django_db
def test_a_spanish_speaking_patient_gets_the_check_in_form_in_spanish(client, checkins, patient):
    _prefer(patient, "es")
    with freeze_time(EVENING):
        body = client.get(reverse("followup:checkin_link", args=[link_for(checkins[0])])).content.decode()
    assert '<html lang="es">' in body
    assert "¿Cómo se siente después de sus inyecciones?" in body and "lunes 16 de noviembre" in body
    assert "Falta de aire o dificultad para respirar" in body  # symptom label from symptoms.yaml
    assert "¿Tiene ahora mismo alguno de estos síntomas?" in body and "Enviar a mi equipo de atención" in body
    assert "Send to my care team" not in body and "How are you after your injections?" not in body
    assert 'value="trouble_breathing"' in body  # the answers stay the same ids


@pytest.mark.django_db
def test_a_spanish_speaking_patient_reporting_breathlessness_is_told_in_spanish_to_call_911(client, checkins, patient):
    _prefer(patient, "es")
    with freeze_time(EVENING):
        response = client.post(reverse("followup:checkin_link", args=[link_for(checkins[0])]),
                               {"symptoms": ["trouble_breathing"], "temperature_unit": "F", "pain_now": "4"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Llame al 911 ahora" in body and 'href="tel:911"' in body
    assert SPANISH_EMERGENCY in body and "neumotórax" in body  # the instructions, from instructions.yaml
    assert "Lo que entendimos" in body and "Señal de emergencia: falta de aire o dificultad para respirar." in body
    assert ENGLISH_EMERGENCY not in body and "collapsed lung" not in body and "Emergency warning sign" not in body
    # Triage and paging do not depend on the language.
    assert Alert.objects.filter(disposition="emergency", status="open").count() == 1
    checkin = CheckIn.objects.get(pk=checkins[0].pk)
    assert checkin.disposition == "emergency"
    assert checkin.triage["reasons"][0]["message"].startswith("Emergency warning sign")  # staff read English


@pytest.mark.django_db
def test_an_english_speaking_patient_still_gets_english(client, checkins, patient):
    _prefer(patient, "en")
    with freeze_time(EVENING):
        response = client.post(reverse("followup:checkin_link", args=[link_for(checkins[0])]),
                               {"symptoms": ["trouble_breathing"]})
    body = response.content.decode()
    assert "Call 911 now" in body and ENGLISH_EMERGENCY in body and "collapsed lung" in body
    assert "What we understood" in body and "Emergency warning sign" in body
    assert SPANISH_EMERGENCY not in body and "Llame al 911" not in body and '<html lang="en">' in body


@pytest.mark.django_db
def test_the_spanish_result_page_is_shown_again_in_spanish_and_so_is_the_portal(client, checkins, patient):
    _prefer(patient, "es")
    client.force_login(patient.portal_user)
    with freeze_time(EVENING):
        portal = client.get(reverse("core:portal")).content.decode()
        assert "Reportar un problema" in portal and "Responda su seguimiento (día del procedimiento)" in portal
        answer = client.post(reverse("followup:portal_checkin", args=[checkins[0].public_id]),
                             {"symptoms": ["hives"], "pain_now": "2"})
        again = client.get(reverse("followup:portal_checkin", args=[checkins[0].public_id]))
    for body in (answer.content.decode(), again.content.decode()):
        assert "Estamos avisando al profesional de salud de guardia" in body and "30 minutos" in body
        assert "Posible reacción alérgica el día 0: ronchas (manchas elevadas que pican)." in body
        assert "¿Algo nuevo o se siente peor? Cuéntenos otra vez" in body
        assert "We are paging" not in body and "Tell us again" not in body
    assert "Enviado el lunes 16 de noviembre a las 6:05" in again.content.decode()


@pytest.mark.django_db
def test_a_spanish_speaking_patient_gets_form_errors_in_spanish(client, checkins, patient):
    _prefer(patient, "es")
    with freeze_time(EVENING):
        response = client.post(reverse("followup:checkin_link", args=[link_for(checkins[0])]),
                               {"temperature": "300", "temperature_unit": "F"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "300 °F no es una temperatura del cuerpo que podamos usar" in body and "Por favor, revise sus respuestas" in body
    assert "not a body temperature" not in body


@pytest.mark.django_db
def test_a_spanish_speaking_patient_sees_a_closed_check_in_in_spanish(client, checkins, patient):
    _prefer(patient, "es")
    with freeze_time(checkins[0].expires_at + timedelta(minutes=1)):
        token = link_for(checkins[0])
        response = client.post(reverse("followup:checkin_link", args=[token]), {"symptoms": ["bruising"]})
    body = response.content.decode()
    assert response.status_code == 409
    assert "Este seguimiento ya cerró." in body and "llame al <a href=\"tel:911\">911</a>" in body


def test_reasons_fall_back_to_english_for_a_language_without_a_translation():
    triage = {"reasons": [{"rule": "TRI-EMERG-RED-FLAG", "message": "Emergency warning sign: fainting.",
                           "data": {"symptoms": ["fainting"]}},
                          {"rule": "TRI-SOMETHING-NEW", "message": "A rule the wording table does not know."}]}
    assert display.patient_reasons(triage, "fr") == ["Emergency warning sign: fainting.",
                                                     "A rule the wording table does not know."]
    spanish = display.patient_reasons(triage, "es")
    assert spanish[0].startswith("Señal de emergencia: ") and spanish[1] == "A rule the wording table does not know."
