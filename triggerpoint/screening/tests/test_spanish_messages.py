"""The questionnaire link message (email and SMS) in the patient's language.

The words are data (``patient_text.yaml``, group ``messages``, ``en`` and ``es`` side by side, checked
for placeholders, numbers and reading ease with the other texts in test_spanish.py); the dates are
the patient's dates (``patient_date``), in Spanish "lunes, 2 de junio de 2025".
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from triggerpoint.core.context import acting_as
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.notifications.models import PatientLink
from triggerpoint.screening import questionnaire_link
from triggerpoint.screening.content import load_patient_text
from triggerpoint.screening.preparation import patient_date

pytestmark = pytest.mark.django_db


def _send(screening, user, language: str, channel: str = "email"):
    patient = screening.patient
    patient.preferred_language = language
    patient.phone = "(555) 222-3333"
    patient.save(update_fields=["preferred_language", "phone"])
    with acting_as(user):
        return questionnaire_link.send_questionnaire_link(user, screening, channel=channel)


def _expires(screening) -> str:
    link = PatientLink.objects.filter(purpose=questionnaire_link.QUESTIONNAIRE_PURPOSE).latest("pk")
    return timezone.localtime(link.expires_at).date()


def test_a_spanish_speaking_patient_gets_the_link_email_in_spanish(screening, front_desk):
    note = _send(screening, front_desk, "es")
    day = patient_date(screening.planned_procedure_date, "es")
    until = patient_date(_expires(screening), "es")
    assert note.subject == f"Antes de su visita del {day}: unas preguntas"
    assert note.body.startswith(f"Hola, Pat:\n\nSu tratamiento en Alpha Test Clinic es el {day}. Antes de esa fecha, "
                                "por favor conteste unas preguntas cortas sobre su salud y lea cómo alistarse:\n\nhttp")
    assert f"El enlace funciona hasta el {until}. Si tiene preguntas, llámenos al (555) 000-0001." in note.body
    assert re.search(r"/screening/q/[^/\s]+/", note.body) and note.body.endswith("\n\nAlpha Test Clinic")
    for english in ("Hello", "Your treatment", "The link works", "call us", "Before your visit"):
        assert english not in note.body and english not in note.subject
    assert re.search(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b",
                     note.body) is None
    assert spanish_fernandez_huerta(f"{note.subject}. {note.body}") >= SPANISH_MIN_FERNANDEZ_HUERTA


def test_a_spanish_speaking_patient_gets_the_link_sms_in_spanish(screening, front_desk):
    note = _send(screening, front_desk, "es", channel="sms")
    day = patient_date(screening.planned_procedure_date, "es")
    assert note.channel == "sms" and note.subject == ""
    assert note.body.startswith(f"Alpha Test Clinic: su visita es el {day}. Antes de ese día, por favor conteste "
                                "unas preguntas de salud aquí: http")
    assert "please answer" not in note.body
    assert spanish_fernandez_huerta(note.body) >= SPANISH_MIN_FERNANDEZ_HUERTA


def test_an_english_speaking_patient_still_gets_the_english_link_message(screening, front_desk):
    note = _send(screening, front_desk, "en")
    url = re.search(r"http\S+/screening/q/\S+/", note.body).group(0)
    day = patient_date(screening.planned_procedure_date)
    assert note.subject == f"Before your visit on {day}: a few questions"
    assert note.body == (
        f"Hello Pat,\n\nYour treatment at Alpha Test Clinic is planned for {day}. Please answer a few short health "
        f"questions before then, and read how to get ready:\n\n{url}\n\n"
        f"The link works until {patient_date(_expires(screening))}. If you have questions, call us at "
        "(555) 000-0001.\n\nAlpha Test Clinic"
    )
    sms = _send(screening, front_desk, "en", channel="sms")
    assert sms.body.startswith(f"Alpha Test Clinic: please answer a few health questions before your visit on {day}: ")


def test_without_a_clinic_phone_the_spanish_email_just_says_call_us(screening, front_desk):
    clinic = screening.patient.clinic
    clinic.phone = ""
    clinic.save(update_fields=["phone"])
    note = _send(screening, front_desk, "es")
    assert "Si tiene preguntas, llámenos.\n\nAlpha Test Clinic" in note.body and "llámenos al" not in note.body


def test_every_message_text_has_its_spanish():
    words = load_patient_text()
    names = ("email_subject", "email_greeting", "email_intro", "email_until", "email_until_phone", "sms")
    assert set(words.group("messages", "en")) == set(names)
    for name in names:
        assert words.get(f"messages.{name}", "es") != words.get(f"messages.{name}", "en"), name
