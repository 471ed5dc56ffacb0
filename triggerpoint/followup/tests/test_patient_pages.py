"""The patient's check-in pages: tokenised links (scope, expiry), the portal, and instructions shown at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.followup import alerts
from triggerpoint.followup.models import Alert, CheckIn
from triggerpoint.followup.report_window import report_problem_url
from triggerpoint.followup.tests.factories import EVENING
from triggerpoint.notifications.services import issue_link

pytestmark = pytest.mark.django_db





def link_for(checkin, purpose="followup.checkin", valid_for=timedelta(hours=48)):
    _link, raw = issue_link(checkin.patient, purpose, checkin, valid_for)
    return raw


def test_the_link_opens_the_check_in_form_without_login(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        response = client.get(reverse("followup:checkin_link", args=[token]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "How are you after your injections?" in body
    assert 'value="trouble_breathing"' in body and 'name="temperature_unit"' in body and 'name="pain_now"' in body
    assert 'name="relief_percent"' in body and 'name="free_text"' in body
    assert AuditEvent.objects.filter(action="followup.checkin.opened").exists()


def test_breathlessness_shows_the_emergency_instruction_in_the_submit_response(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        response = client.post(reverse("followup:checkin_link", args=[token]),
                               {"symptoms": ["trouble_breathing"], "temperature_unit": "F", "pain_now": "4"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Call 911 now" in body and 'href="tel:911"' in body
    assert "collapsed lung" in body
    assert Alert.objects.filter(disposition="emergency", status="open").count() == 1


def test_the_instructions_are_shown_even_when_storing_or_paging_fails(client, checkins, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(alerts, "raise_alert", broken)
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        response = client.post(reverse("followup:checkin_link", args=[token]), {"symptoms": ["chest_pain"]})
    body = response.content.decode()
    assert response.status_code == 500
    assert "Call 911 now" in body and "did not reach the clinic" in body
    assert "(555) 000-0001" in body  # the clinic's number
    checkins[0].refresh_from_db()
    assert checkins[0].status == "due"  # the failed transaction left nothing half-written
    assert not Alert.objects.exists()


def test_an_implausible_temperature_is_refused_with_a_message_not_guessed(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        response = client.post(reverse("followup:checkin_link", args=[token]),
                               {"temperature": "300", "temperature_unit": "F"})
    assert response.status_code == 422
    assert "300" in response.content.decode() and "not a body temperature" in response.content.decode()
    checkins[0].refresh_from_db()
    assert checkins[0].status == "due"


def test_a_celsius_reading_is_accepted_with_its_unit(client, checkins):
    with freeze_time(checkins[1].due_at + timedelta(hours=1)):
        token = link_for(checkins[1])
        response = client.post(reverse("followup:checkin_link", args=[token]),
                               {"temperature": "38.4", "temperature_unit": "C"})
    assert "We are paging the on-call clinician" in response.content.decode()
    checkin = CheckIn.objects.get(pk=checkins[1].pk)
    assert checkin.answers["temperature"] == {"value": 38.4, "unit": "C"} and checkin.disposition == "urgent"


def test_reopening_an_answered_check_in_shows_what_was_said(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        client.post(reverse("followup:checkin_link", args=[token]), {"symptoms": ["bruising"]})
        again = client.get(reverse("followup:checkin_link", args=[token]))
    assert again.status_code == 200 and "This is expected after injections" in again.content.decode()
    assert CheckIn.objects.get(pk=checkins[0].pk).disposition == "self_care"


def test_a_check_in_link_is_scoped_to_its_purpose(client, checkins, procedure):
    with freeze_time(EVENING):
        other_purpose = link_for(checkins[0], purpose="aftercare.plan")
        response = client.get(reverse("followup:checkin_link", args=[other_purpose]))
        assert response.status_code == 404 and "not valid" in response.content.decode()
        checkin_token = link_for(checkins[0])
        assert client.get(reverse("followup:report_link", args=[checkin_token])).status_code == 404
        assert client.get(reverse("followup:checkin_link", args=["made-up-token"])).status_code == 404


def test_a_link_whose_target_is_another_patients_check_in_opens_nothing(client, checkins, other_patient):
    with freeze_time(EVENING):
        _link, forged = issue_link(other_patient, "followup.checkin", checkins[0], timedelta(hours=1))
        response = client.get(reverse("followup:checkin_link", args=[forged]))
    assert response.status_code == 404


def test_an_expired_link_says_so(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0], valid_for=timedelta(hours=1))
    with freeze_time(EVENING + timedelta(hours=1)):
        response = client.get(reverse("followup:checkin_link", args=[token]))
    assert response.status_code == 404 and "expired" in response.content.decode()
    with freeze_time(EVENING + timedelta(minutes=59)):
        assert client.get(reverse("followup:checkin_link", args=[token])).status_code == 200


def test_after_answering_the_patient_can_report_something_new_through_a_report_link(client, checkins):
    with freeze_time(EVENING):
        token = link_for(checkins[0])
        client.post(reverse("followup:checkin_link", args=[token]), {})
        response = client.post(reverse("followup:checkin_link_report", args=[token]))
        assert response.status_code == 302 and "/followup/r/" in response["Location"]
        form = client.get(response["Location"])
        assert form.status_code == 200
        result = client.post(response["Location"], {"symptoms": ["hives"]})
    assert "We are paging the on-call clinician" in result.content.decode()
    assert CheckIn.objects.filter(kind="patient_initiated", disposition="urgent").count() == 1


def test_the_portal_shows_a_due_check_in_and_answers_it(client, checkins, patient):
    client.force_login(patient.portal_user)
    with freeze_time(EVENING):
        portal = client.get(reverse("core:portal"))
        assert reverse("followup:portal_checkin", args=[checkins[0].public_id]) in portal.content.decode()
        assert "Report a problem" in portal.content.decode()
        response = client.post(reverse("followup:portal_checkin", args=[checkins[0].public_id]),
                               {"symptoms": ["site_soreness"], "pain_now": "2", "relief_percent": "60"})
    assert response.status_code == 200 and "expected" in response.content.decode()
    assert CheckIn.objects.get(pk=checkins[0].pk).answered_via == "portal"


def test_the_portal_refuses_another_patients_check_in(client, checkins, other_patient):
    client.force_login(other_patient.portal_user)
    with freeze_time(EVENING):
        response = client.get(reverse("followup:portal_checkin", args=[checkins[0].public_id]))
    assert response.status_code == 404


def test_the_portal_report_page_goes_straight_to_the_only_open_procedure(client, procedure, patient):
    client.force_login(patient.portal_user)
    with freeze_time(EVENING):
        start = client.get(reverse("followup:portal_report_start"))
        assert start.status_code == 302
        assert start["Location"] == reverse("followup:portal_report", args=[procedure.public_id])
        response = client.post(start["Location"], {"free_text": "my arm feels funny and I'm worried"})
    assert response.status_code == 200
    assert CheckIn.objects.get(kind="patient_initiated").disposition in {"routine", "urgent", "emergency"}


def test_the_portal_report_closes_after_day_14(client, procedure, patient):
    with freeze_time(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)):  # day 15 in New York
        client.force_login(patient.portal_user)
        assert client.get(reverse("followup:portal_report", args=[procedure.public_id])).status_code == 409
        assert client.get(reverse("followup:portal_report_start")).status_code == 200


def test_the_report_button_for_other_pages_links_to_the_portal_form_until_day_14(procedure):
    from django.template import Context, Template

    template = Template("{% load followup_tags %}{% report_problem_button procedure %}")
    with freeze_time(EVENING):
        html = template.render(Context({"procedure": procedure}))
    assert reverse("followup:portal_report", args=[procedure.public_id]) in html and "911" in html
    with freeze_time(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)):
        assert "Report a problem" not in template.render(Context({"procedure": procedure}))


def test_the_report_button_can_carry_a_tokenised_link_for_pages_without_login(procedure):
    from django.template import Context, Template

    with freeze_time(EVENING):
        url = report_problem_url(procedure)
        html = Template("{% load followup_tags %}{% report_problem_button procedure report_url=url %}").render(
            Context({"procedure": procedure, "url": url}))
    assert url.startswith("http") and "/followup/r/" in url and url in html
