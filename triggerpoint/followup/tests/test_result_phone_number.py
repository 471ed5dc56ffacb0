"""The urgent result page: the number the patient is told to call is the number the button dials.

Hazard HAZ-WRONG-PHONE-NUMBER. The urgent instructions say "call the clinic's main number"; the
button used to show and dial the after-hours number instead.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.followup.display import ClinicCallNumber, clinic_call_number
from triggerpoint.notifications.services import issue_link

pytestmark = pytest.mark.django_db

BUTTON = re.compile(r'<a class="button call-clinic" href="tel:(?P<dial>[^"]+)">(?P<label>[^<]+)</a>')


def _urgent_result(client, checkin):
    """Answer the day-1 check-in with a 38.4 °C fever (urgent) and return the result page."""
    with freeze_time(checkin.due_at + timedelta(hours=1)):
        _link, token = issue_link(checkin.patient, "followup.checkin", checkin, timedelta(hours=48))
        response = client.post(reverse("followup:checkin_link", args=[token]),
                               {"temperature": "38.4", "temperature_unit": "C"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_urgent_button_shows_and_dials_the_clinics_main_number(client, checkins, clinic_a):
    clinic_a.after_hours_phone = "(555) 000-0999"
    clinic_a.save()
    body = _urgent_result(client, checkins[1])
    assert "main number and ask for the on-call clinician" in body  # the instructions the patient reads
    button = BUTTON.search(body)
    assert button is not None, body
    assert button["label"] == "Call the clinic's main number: (555) 000-0001"
    assert button["dial"] == "5550000001"
    assert "tel:5550000999" not in body and 'href="tel:(555) 000-0999"' not in body


def test_the_urgent_button_is_in_spanish_for_a_spanish_speaking_patient(client, checkins, clinic_a):
    patient = checkins[1].patient
    patient.preferred_language = "es"
    patient.save()
    body = _urgent_result(client, checkins[1])
    assert "número principal de la clínica" in body
    button = BUTTON.search(body)
    assert button["label"] == "Llame al número principal de la clínica: (555) 000-0001"
    assert button["dial"] == "5550000001"


def test_a_clinic_without_a_main_number_gets_a_button_that_says_after_hours(client, checkins, clinic_a):
    clinic_a.phone = ""
    clinic_a.after_hours_phone = "+1 (555) 000-0999"
    clinic_a.save()
    button = BUTTON.search(_urgent_result(client, checkins[1]))
    assert button["label"] == "Call the clinic (after hours): +1 (555) 000-0999"
    assert button["dial"] == "+15550000999"


def test_no_number_no_button(client, checkins, clinic_a):
    clinic_a.phone = ""
    clinic_a.save()
    assert BUTTON.search(_urgent_result(client, checkins[1])) is None


def test_the_dialled_digits_come_from_the_shown_number():
    assert ClinicCallNumber("(555) 010-2000", is_main=True).dial == "5550102000"
    assert ClinicCallNumber(" +44 20 7946 0000 ", is_main=True).dial == "+442079460000"


class _Clinic:
    def __init__(self, phone, after_hours_phone):
        self.phone, self.after_hours_phone = phone, after_hours_phone


def test_the_main_number_wins_over_the_after_hours_number():
    assert clinic_call_number(_Clinic("(555) 1", "(555) 2")) == ClinicCallNumber("(555) 1", is_main=True)
    assert clinic_call_number(_Clinic("  ", "(555) 2")) == ClinicCallNumber("(555) 2", is_main=False)
    assert clinic_call_number(_Clinic("", "")) is None
