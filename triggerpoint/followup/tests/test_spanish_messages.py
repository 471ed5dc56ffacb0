"""The check-in invitation by email and SMS in the patient's language (words in followup/locale/es).

The catalog tests in test_spanish.py cover these strings too (every marked string translated,
the .mo compiled from the .po); here: the real messages, their 911 line, dates and reading ease.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.core.testing.catalogs import compiled
from triggerpoint.followup import checkins as followup_checkins
from triggerpoint.followup.checkins import CHECKIN_KIND, schedule_checkins
from triggerpoint.followup.tests.factories import signed_procedure
from triggerpoint.notifications.models import ContactPreference, Notification

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 16)
PERFORMED = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # 14:00 in New York
SIGNED = PERFORMED + timedelta(minutes=30)

SPANISH_911 = ("Si le cuesta respirar, tiene dolor de pecho, se desmaya o se le hinchan los labios, la lengua o la "
               "garganta, llame al 911 ahora. No espere este mensaje para llamar.")
ENGLISH_911 = ("If you have trouble breathing, chest pain, fainting, or swelling of your lips, tongue or throat, "
               "call 911 now. Do not wait for this message.")
SPANISH_SMS_911 = "Si le cuesta respirar, tiene dolor de pecho o se desmaya, llame al 911 ahora."
ENGLISH_SMS_911 = "Trouble breathing, chest pain or fainting: call 911 now."

#: The msgids of the invitation (checkins._send_checkin_message and _when).
MESSAGE_MSGIDS = (
    "%(clinic)s: how are you after your injections on %(date)s? Answer in under a minute: "
    "%(url)s . Trouble breathing, chest pain or fainting: call 911 now.",
    "Hello %(name)s,",
    "How are you feeling after your trigger point injections on %(date)s? "
    "Please answer a few quick questions (it takes under a minute):",
    "This link works until %(until)s.",
    "Any other time in the next %(days)s days you can tell us about a problem here:",
    "If you have trouble breathing, chest pain, fainting, or swelling of your lips, tongue or throat, call 911 now.",
    "Do not wait for this message.",
    "How are you after your injections? (%(clinic)s)",
    "%(date)s at %(time)s",
)


def _prefer(patient, language: str, channel: str = "email"):
    patient.preferred_language = language
    patient.phone = "(555) 222-3333"
    patient.save(update_fields=["preferred_language", "phone"])
    ContactPreference.objects.update_or_create(patient=patient, defaults={"preferred_channel": channel})


def _messages(patient, physician, weeks_later: int = 0) -> list[Notification]:
    """The check-in invitations of a procedure (`weeks_later` moves it: one set per patient and day)."""
    later = timedelta(weeks=weeks_later)
    procedure = signed_procedure(patient, physician, on=MONDAY + later, performed_at=PERFORMED + later)
    with freeze_time(SIGNED + later):
        schedule_checkins(procedure)
    return list(Notification.objects.filter(kind=CHECKIN_KIND).order_by("send_after"))


def test_a_spanish_speaking_patient_gets_the_check_in_email_in_spanish(patient, physician):
    _prefer(patient, "es")
    notes = _messages(patient, physician)
    assert len(notes) == 4
    first = notes[0]
    assert first.subject == "¿Cómo se siente después de sus inyecciones? (Alpha Test Clinic)"
    body = first.body
    assert body.startswith("Hola, Pat:\n\n¿Cómo se siente después de sus inyecciones en puntos gatillo del "
                           "16 de noviembre? Por favor, conteste unas preguntas rápidas (le toma menos de un minuto):")
    # Day 0's check-in is due at 18:00 New York time and its link works for 48 hours.
    assert "Este enlace funciona hasta el miércoles 18 de noviembre a las 6:00 PM." in body
    assert "En cualquier otro momento de los próximos 14 días, puede avisarnos aquí si tiene un problema:" in body
    assert SPANISH_911 in body  # the safety line, in Spanish
    assert "/followup/c/" in body and "/followup/r/" in body
    assert body.rstrip().endswith("Alpha Test Clinic · (555) 000-0001")
    for english in ("Hello", "How are you", "This link works", "November", "Wednesday", ENGLISH_911, "call 911"):
        assert english not in body
    assert all(SPANISH_911 in note.body for note in notes)


def test_a_spanish_speaking_patient_gets_the_check_in_sms_in_spanish_with_the_911_line(patient, physician):
    _prefer(patient, "es", channel="sms")
    notes = _messages(patient, physician)
    assert {n.channel for n in notes} == {"sms"}
    body = notes[0].body
    assert body.startswith("Alpha Test Clinic: ¿cómo se siente después de sus inyecciones del 16 de noviembre? "
                           "Responda en menos de un minuto: http")
    assert body.endswith(" . " + SPANISH_SMS_911)
    assert ENGLISH_SMS_911 not in body and "how are you" not in body


def test_an_english_speaking_patient_still_gets_the_english_check_in(patient, physician):
    _prefer(patient, "en")
    body = _messages(patient, physician)[0].body
    check_in, report = re.findall(r"http\S+", body)
    assert body == (
        "Hello Pat,\n\n"
        "How are you feeling after your trigger point injections on November 16? "
        f"Please answer a few quick questions (it takes under a minute):\n\n{check_in}\n\n"
        "This link works until Wednesday November 18 at 6:00 PM.\n"
        f"\nAny other time in the next 14 days you can tell us about a problem here:\n{report}\n"
        f"\n{ENGLISH_911}\n\nAlpha Test Clinic · (555) 000-0001\n"
    )
    _prefer(patient, "en", channel="sms")
    Notification.objects.all().delete()
    sms = _messages(patient, physician, weeks_later=1)[0].body
    assert sms.startswith("Alpha Test Clinic: how are you after your injections on November 23? Answer in under a minute:")
    assert sms.endswith(ENGLISH_SMS_911)


def test_the_invitations_spanish_is_there_and_reads_fairly_easy():
    catalog = compiled(Path(followup_checkins.__file__).resolve().parent)
    sample = {"clinic": "Alpha Test Clinic", "name": "Pat", "date": "16 de noviembre", "days": "14",
              "url": "http://127.0.0.1:8000/followup/c/Xy3kP9wQ7rT2vB8nM4sL6dF1/", "time": "6:00 PM",
              "until": "miércoles 18 de noviembre a las 6:00 PM"}
    for msgid in MESSAGE_MSGIDS:
        assert catalog.get(msgid), msgid
        if msgid == "%(date)s at %(time)s":
            continue  # a piece of "This link works until ..."
        text = catalog[msgid] % sample if "%(" in msgid else catalog[msgid]
        assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA, (msgid, text)
    assert "911" in catalog[MESSAGE_MSGIDS[0]] and "911" in catalog[MESSAGE_MSGIDS[5]]


def test_the_whole_spanish_email_reads_fairly_easy(patient, physician):
    _prefer(patient, "es")
    note = _messages(patient, physician)[0]
    assert spanish_fernandez_huerta(f"{note.subject}. {note.body}") >= SPANISH_MIN_FERNANDEZ_HUERTA
