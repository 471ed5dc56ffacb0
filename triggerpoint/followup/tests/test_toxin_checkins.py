"""Botulinum toxin through the real check-in flows: the procedure's injectates decide whether
the toxin-spread checkboxes are offered and whether triage applies the 12-week window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.followup.checkins import CheckInClosed, report_problem, schedule_checkins
from triggerpoint.followup.models import Alert, AnsweredVia, CheckIn
from triggerpoint.followup.report_window import report_problem_url, report_window_days, report_window_open
from triggerpoint.followup.tests.factories import EVENING, MONDAY, PERFORMED, rota, signed_procedure, staff
from triggerpoint.followup.toxin import procedure_included_toxin
from triggerpoint.notifications.services import issue_link

pytestmark = pytest.mark.django_db

DAY_10 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # 15:00 in New York, day 10


@pytest.fixture
def on_call(clinic_a):
    return rota(clinic_a, staff("nina.oncall", "nurse", clinic_a))


@pytest.fixture
def toxin_procedure(patient, physician, on_call):
    return signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED, drug="onabotulinumtoxinA")


@pytest.fixture
def lidocaine_procedure(patient, physician, on_call):
    return signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED, drug="lidocaine")


def test_the_procedure_says_whether_it_included_a_toxin(toxin_procedure, lidocaine_procedure, patient, physician):
    assert procedure_included_toxin(toxin_procedure) is True
    assert procedure_included_toxin(lidocaine_procedure) is False
    unknown_drug = signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED, drug="not-in-catalogue")
    assert procedure_included_toxin(unknown_drug) is None  # cannot tell: triage treats toxin as possible


def test_a_drooping_eyelid_after_toxin_pages_with_the_toxin_rule(toxin_procedure):
    with freeze_time(DAY_10):
        checkin, result = report_problem(toxin_procedure, {"symptoms": ["drooping_eyelid"]},
                                                  via=AnsweredVia.PORTAL)
    assert result.disposition == "urgent" and result.rule_ids == ("TRI-TOXIN-SPREAD",)
    stored = CheckIn.objects.get(pk=checkin.pk).triage
    assert stored["request"]["botulinum_toxin"] is True
    assert {"id": "TRI-TOXIN-SPREAD", "version": 1} in stored["rules"]
    assert Alert.objects.filter(disposition="urgent").count() == 1


def test_a_drooping_eyelid_without_toxin_pages_as_a_new_nerve_sign(lidocaine_procedure):
    with freeze_time(DAY_10):
        checkin, result = report_problem(lidocaine_procedure, {"symptoms": ["drooping_eyelid"]},
                                                  via=AnsweredVia.PORTAL)
    assert result.disposition == "urgent" and result.rule_ids == ("TRI-URG-NEURO-SIGN",)
    assert CheckIn.objects.get(pk=checkin.pk).triage["request"]["botulinum_toxin"] is False


def test_spanish_text_about_swallowing_after_toxin_is_an_emergency(toxin_procedure, patient):
    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    with freeze_time(DAY_10):
        _checkin, result = report_problem(toxin_procedure, {"symptoms": [], "free_text": "me cuesta tragar"},
                                                   via=AnsweredVia.PORTAL)
    assert result.disposition == "emergency"
    assert "TRI-TOXIN-SPREAD" in result.rule_ids
    assert "toxina botulínica" in result.instructions


def _form_body(client, procedure, patient, language="en"):
    patient.preferred_language = language
    patient.save(update_fields=["preferred_language"])
    with freeze_time(PERFORMED + timedelta(minutes=30)):
        checkins = schedule_checkins(procedure)
    with freeze_time(EVENING):
        _link, token = issue_link(patient, "followup.checkin", checkins[0], timedelta(hours=48))
        return client.get(reverse("followup:checkin_link", args=[token])).content.decode()


def test_the_check_in_form_offers_toxin_spread_checkboxes_after_toxin(client, toxin_procedure, patient):
    body = _form_body(client, toxin_procedure, patient)
    for symptom in ("drooping_eyelid", "double_vision", "trouble_swallowing", "trouble_speaking",
                    "generalised_weakness"):
        assert f'value="{symptom}"' in body
    assert "Since your botulinum toxin (Botox) shot, have you had any of these?" in body


def test_the_spanish_check_in_form_words_the_toxin_checkboxes_in_spanish(client, toxin_procedure, patient):
    body = _form_body(client, toxin_procedure, patient, "es")
    assert "Desde su inyección de toxina botulínica (Botox), ¿ha tenido algo de esto?" in body
    assert "Un párpado caído" in body and 'value="drooping_eyelid"' in body


def test_the_check_in_form_leaves_them_out_after_a_toxin_free_procedure(client, lidocaine_procedure, patient):
    body = _form_body(client, lidocaine_procedure, patient)
    assert 'value="drooping_eyelid"' not in body and 'value="trouble_breathing"' in body


# ---------------------------------------------------------------- reporting online for the whole toxin window

def _noon_new_york(day: int) -> datetime:
    return datetime(2026, 11, 16, 17, 0, tzinfo=UTC) + timedelta(days=day)  # 12:00 in New York, day `day`


def test_after_toxin_a_patient_can_report_online_through_week_12_and_not_after(toxin_procedure):
    assert report_window_days(toxin_procedure) == 84
    for day, is_open in ((14, True), (15, True), (20, True), (84, True), (85, False)):
        assert report_window_open(toxin_procedure, _noon_new_york(day)) is is_open, day
    with freeze_time(_noon_new_york(20)):
        _checkin, result = report_problem(toxin_procedure, {"symptoms": ["double_vision"]},
                                                   via=AnsweredVia.PORTAL)
    assert "TRI-TOXIN-SPREAD" in result.rule_ids and result.disposition in ("urgent", "emergency")
    with freeze_time(_noon_new_york(85)), pytest.raises(CheckInClosed, match="open for 84 days"):
        report_problem(toxin_procedure, {"symptoms": ["double_vision"]}, via=AnsweredVia.PORTAL)


def test_without_toxin_online_reporting_closes_after_day_14(lidocaine_procedure):
    assert report_window_days(lidocaine_procedure) == 14
    assert report_window_open(lidocaine_procedure, _noon_new_york(14)) is True
    assert report_window_open(lidocaine_procedure, _noon_new_york(15)) is False
    with freeze_time(_noon_new_york(15)), pytest.raises(CheckInClosed, match="open for 14 days"):
        report_problem(lidocaine_procedure, {"symptoms": ["double_vision"]}, via=AnsweredVia.PORTAL)


def test_a_drug_that_cannot_be_identified_keeps_the_toxin_window_open(patient, physician, on_call):
    unknown = signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED, drug="not-in-catalogue")
    assert report_window_days(unknown) == 84


def test_the_portal_offers_the_report_form_on_day_20_after_toxin(toxin_procedure, patient, physician, client):
    # A toxin-free note of another day (a note of the toxin's own day shares its window: the next test).
    lidocaine_days_before = signed_procedure(patient, physician, on=MONDAY - timedelta(days=5),
                                             performed_at=PERFORMED - timedelta(days=5), drug="lidocaine")
    with freeze_time(_noon_new_york(20)):
        client.force_login(patient.portal_user)
        opened = client.get(reverse("followup:portal_report", args=[toxin_procedure.public_id]))
        closed = client.get(reverse("followup:portal_report", args=[lidocaine_days_before.public_id]))
        link = report_problem_url(toxin_procedure)
    assert opened.status_code == 200 and b"drooping" in opened.content.lower()
    assert closed.status_code == 409
    assert link is not None


def test_a_toxin_free_note_of_the_toxin_day_shares_the_12_week_window(toxin_procedure, lidocaine_procedure):
    """The day's notes are one episode: toxin spread is reported whichever of the day's notes it is reported against."""
    assert report_window_days(lidocaine_procedure) == 84
    assert report_window_open(lidocaine_procedure, _noon_new_york(84)) is True
    assert report_window_open(lidocaine_procedure, _noon_new_york(85)) is False
    with freeze_time(_noon_new_york(20)):
        _checkin, result = report_problem(lidocaine_procedure, {"symptoms": ["double_vision"]}, via=AnsweredVia.PORTAL)
    assert "TRI-TOXIN-SPREAD" in result.rule_ids
