"""Pages reach the on-call clinician through the outbox: a real SMTP server on loopback, SMS recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from freezegun import freeze_time

from triggerpoint.followup.alerts import escalate_overdue_alerts
from triggerpoint.followup.checkins import report_problem, schedule_checkins
from triggerpoint.followup.models import Alert, AnsweredVia
from triggerpoint.followup.tests.factories import rota, signed_procedure, staff
from triggerpoint.notifications.gateways import RecordingSmsGateway
from triggerpoint.notifications.models import Notification
from triggerpoint.notifications.services import deliver_due

pytestmark = pytest.mark.django_db


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))

RAISED = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)


@pytest.fixture
def oncall(clinic_a):
    nurse = staff("nora.first", "nurse", clinic_a, email="nora.first@clinic.example")
    doctor = staff("dr.adams", "physician", clinic_a, email="dr.adams@clinic.example")
    rota(clinic_a, nurse, doctor, phones={"nora.first": "(555) 700-0001", "dr.adams": "(555) 700-0002"})
    return nurse, doctor


@pytest.fixture
def alert(oncall, patient, clinic_a):
    surgeon = staff("dr.surgeon", "physician", clinic_a, email="dr.surgeon@clinic.example")
    procedure = signed_procedure(patient, surgeon, on=date(2026, 11, 16),
                                 performed_at=datetime(2026, 11, 16, 19, 0, tzinfo=UTC))
    RecordingSmsGateway.sent.clear()
    with freeze_time(RAISED):
        report_problem(procedure, {"symptoms": ["trouble_breathing"]}, via=AnsweredVia.PORTAL)
    return Alert.objects.get()


def test_the_page_reaches_the_on_call_nurse_by_email_and_sms(alert, smtp_server):
    counts = deliver_due(now=RAISED + timedelta(seconds=5))
    assert counts == {"sent": 2}
    [message] = smtp_server.messages
    assert message["To"] == "nora.first@clinic.example"
    assert subject(message) == "EMERGENCY follow-up alert: Alpha Test Clinic"
    body = message.get_payload(decode=True).decode()
    assert "Patient P.P., day" in body and "pneumothorax" in body.lower()
    assert "Portalowner" not in body and "A-0001" not in body  # no name or MRN over SMS/email
    assert f"/followup/p/{alert.patient.public_id}/alerts/{alert.public_id}/" in body
    assert [(s.to, "EMERGENCY" in s.body) for s in RecordingSmsGateway.sent] == [("(555) 700-0001", True)]


def test_an_escalation_page_reaches_the_next_person_and_the_performing_physician(alert, smtp_server):
    deliver_due(now=RAISED + timedelta(seconds=5))
    with freeze_time(RAISED + timedelta(minutes=15)):
        escalate_overdue_alerts()
        deliver_due()
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == ["dr.adams@clinic.example", "dr.surgeon@clinic.example", "nora.first@clinic.example"]
    escalated = [m for m in smtp_server.messages if m["To"] != "nora.first@clinic.example"]
    assert all(subject(m).startswith("ESCALATED EMERGENCY") for m in escalated)


def test_a_page_waits_and_is_retried_while_the_mail_server_is_down(alert, smtp_server):
    smtp_server.stop()
    deliver_due(now=RAISED + timedelta(seconds=5))
    email = Notification.objects.get(kind="followup.page", channel="email")
    assert email.status == "pending" and email.attempts == 1 and email.next_attempt_at is not None
    smtp_server.start()
    deliver_due(now=email.next_attempt_at)
    email.refresh_from_db()
    assert email.status == "sent"
    assert [m["To"] for m in smtp_server.messages] == ["nora.first@clinic.example"]


def test_the_check_in_message_reaches_the_patient_by_email_at_its_time(patient, physician, smtp_server):
    procedure = signed_procedure(patient, physician, on=date(2026, 11, 16),
                                 performed_at=datetime(2026, 11, 16, 19, 0, tzinfo=UTC))
    with freeze_time(datetime(2026, 11, 16, 19, 30, tzinfo=UTC)):
        schedule_checkins(procedure)
        assert deliver_due() == {}
    with freeze_time(datetime(2026, 11, 16, 23, 0, tzinfo=UTC)):  # 18:00 New York
        assert deliver_due() == {"sent": 1}
    [message] = smtp_server.messages
    assert message["To"] == patient.email and "How are you" in subject(message)
    assert "/followup/c/" in message.get_payload(decode=True).decode()
