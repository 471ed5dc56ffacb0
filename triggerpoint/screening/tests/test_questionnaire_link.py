"""The patient's questionnaire link: sent through the outbox, no login, one screening, expiring."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.notifications.models import Notification, PatientLink
from triggerpoint.notifications.services import deliver_due, issue_link
from triggerpoint.screening import questionnaire_link, services

YES_NO_ALL_WELL = {
    "recent_fever": "no", "recent_antibiotics": "no", "recent_illness": "no", "recent_hospital": "no",
    "feels_unwell": "no", "on_antibiotics": "no", "infection_at_site": "no", "pregnant": "no",
    "prior_vasovagal": "no",
}


def _send(screening, user, channel="email"):
    with acting_as(user):
        return questionnaire_link.send_questionnaire_link(user, screening, channel=channel)


def _token_from(body: str) -> str:
    return re.search(r"/screening/q/([^/\s]+)/", body).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_link_is_emailed_through_the_outbox_and_opens_the_questionnaire_without_login(
    screening, front_desk, smtp_server, client
):
    note = _send(screening, front_desk)
    assert note.kind == "screening.questionnaire" and note.to == screening.patient.email
    assert deliver_due()["sent"] == 1
    message = smtp_server.messages[0]
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else message.get_payload(0).get_payload(decode=True).decode()
    token = _token_from(body)
    assert token not in PatientLink.objects.get().token_hash  # only the hash is stored
    response = client.get(f"/screening/q/{token}/")
    assert response.status_code == 200
    assert "Before your visit" in response.content.decode()
    assert AuditEvent.objects.filter(action="screening.questionnaire.link_sent", actor=front_desk).exists()


def test_sending_by_sms_needs_a_phone_number(screening, nurse):
    with pytest.raises(services.ScreeningStateError, match="phone number"):
        _send(screening, nurse, channel="sms")
    assert not Notification.objects.exists()


def test_the_patient_answers_through_the_link_and_the_screening_is_evaluated(screening, client):
    _link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    response = client.post(f"/screening/q/{token}/", YES_NO_ALL_WELL)
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    screening.refresh_from_db()
    assert screening.answers_source == "patient_link"
    assert screening.answers["today"] == {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False}
    # no temperature from home: the fever rule cannot clear the patient yet
    assert screening.status == "review"
    event = AuditEvent.objects.get(action="screening.answers.recorded")
    assert event.actor is None and event.details["source"] == "patient_link"


def test_a_yes_needs_its_date_and_the_form_says_so(screening, client):
    _link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    response = client.post(f"/screening/q/{token}/", YES_NO_ALL_WELL | {"recent_fever": "yes"})
    assert "Please give the date" in response.content.decode()
    screening.refresh_from_db()
    assert screening.answers == {}


def test_the_link_is_scoped_to_its_one_screening(screening, physician, patient, client, procedure_day, lumbar_plan):
    with acting_as(physician):
        other = services.create_screening(physician, patient, procedure_day + timedelta(days=14), lumbar_plan)
    _link, token = issue_link(patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    client.post(f"/screening/q/{token}/", YES_NO_ALL_WELL)
    screening.refresh_from_db()
    other.refresh_from_db()
    assert screening.answers and not other.answers
    assert questionnaire_link.screening_for_link(token) == screening


def test_a_link_for_another_purpose_does_not_open_the_questionnaire(screening, client):
    _link, token = issue_link(screening.patient, "aftercare.plan", screening, timedelta(days=7))
    response = client.get(f"/screening/q/{token}/")
    assert response.status_code == 404
    assert "cannot be opened" in response.content.decode()


def test_a_link_pointing_at_another_patients_screening_is_refused(screening, other_patient, client):
    _link, token = issue_link(other_patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    assert client.get(f"/screening/q/{token}/").status_code == 404


def test_an_expired_link_is_refused_with_a_way_forward(screening, client):
    link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(f"/screening/q/{token}/", YES_NO_ALL_WELL)
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    screening.refresh_from_db()
    assert screening.answers == {}
    assert client.get(f"/screening/q/{token}/preparation.pdf").status_code == 404


def test_a_link_still_works_a_moment_before_it_expires(screening, client):
    link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(seconds=30))
    assert client.get(f"/screening/q/{token}/").status_code == 200


def test_a_revoked_link_and_a_made_up_token_are_refused(screening, client):
    link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    PatientLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    assert client.get(f"/screening/q/{token}/").status_code == 404
    assert client.get("/screening/q/not-a-real-token/").status_code == 404


def test_after_the_review_the_link_shows_the_answers_are_in_and_refuses_changes(answered, physician, client):
    with acting_as(physician):
        services.review_screening(physician, answered, expected_version=answered.version)
    _link, token = issue_link(answered.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, answered, timedelta(days=7))
    response = client.post(f"/screening/q/{token}/", YES_NO_ALL_WELL | {"feels_unwell": "yes"})
    assert "already reviewed" in response.content.decode()
    answered.refresh_from_db()
    assert answered.answers["today"]["feels_unwell"] is False


def test_the_preparation_pdf_opens_from_the_link(screening, client):
    _link, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    response = client.get(f"/screening/q/{token}/preparation.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
