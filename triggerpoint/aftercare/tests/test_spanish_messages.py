"""Every aftercare message a Spanish-preferring patient is sent (the plan link and each reminder, by
email and by SMS) is in Spanish: the words from aftercare/locale/es, the reminder texts from the plan
template (key ``es``). An English-preferring patient still gets English."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from triggerpoint.aftercare import services
from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.core.testing.catalogs import compiled, marked_msgids
from triggerpoint.notifications.models import ContactPreference

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)
# English words of the messages' own sentences (not the clinic's name or the link).
ENGLISH = re.compile(r"\b(Hello|Your|plan is ready|Open your plan|Questions|Call|emergency|Emergency|reminder|"
                     r"Tonight|Today|Please|Any fever|You can|patient portal|stop|Stop)\b")


def _messages(patient, language: str, channel: str):
    patient.preferred_language = language
    patient.phone = "(555) 222-3333"
    patient.save(update_fields=["preferred_language", "phone"])
    ContactPreference.objects.update_or_create(patient=patient, defaults={"preferred_channel": channel})
    plan = plan_for(signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "left"),)))
    return plan, list(services.reminders_for(plan))


def _visible(text: str) -> str:
    """The message without the link and the clinic's name (both the same in every language)."""
    return re.sub(r"http\S+", "", text).replace("Alpha Test Clinic", "")


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_every_message_of_a_spanish_plan_is_spanish(patient, channel):
    plan, notes = _messages(patient, "es", channel)
    assert plan.language == "es" and len(notes) >= 4
    for note in notes:
        text = _visible(f"{note.subject}\n{note.body}")
        assert not ENGLISH.search(text), (note.kind, text)
        assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA, text
    link, reminders = notes[0], notes[1:]
    assert "llame al 911" in link.body and "plan de cuidados" in link.body
    spanish = {r.text["es"] for r in load_template().reminders}
    for note in reminders:
        assert any(text in note.body for text in spanish), note.body


def test_the_spanish_link_email_and_reminder_email_name_911_and_the_portal(patient):
    _plan, notes = _messages(patient, "es", "email")
    link, reminder = notes[0], notes[1]
    assert link.subject == "Su plan de cuidados de Alpha Test Clinic" and "Abra su plan" in link.body
    assert "En una emergencia, llame al 911." in link.body and "In an emergency" not in link.body
    assert reminder.subject == "Recordatorio de cuidados de Alpha Test Clinic"
    assert "Su plan completo está en el portal del paciente" in reminder.body and "Your full plan" not in reminder.body


def test_an_english_plan_still_sends_english(patient):
    _plan, notes = _messages(patient, "en", "email")
    assert notes[0].subject == "Your aftercare plan from Alpha Test Clinic"
    assert "Open your plan" in notes[0].body and "In an emergency, call 911." in notes[0].body
    assert notes[1].subject == "Aftercare reminder from Alpha Test Clinic"
    assert "Your full plan is in the patient portal" in notes[1].body


def test_the_aftercare_messages_strings_are_all_translated():
    """The message strings are among the marked ones; core/tests/test_translation_catalogs.py checks them all."""
    app = Path(services.__file__).resolve().parent
    assert "Emergency: call 911." in marked_msgids(app)
    assert compiled(app).get("Emergency: call 911.")
