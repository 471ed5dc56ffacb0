"""A real plan's messages through the outbox and a real SMTP server on loopback: each one
delivered exactly once, nothing lost while the server is down, nothing after an opt-out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from triggerpoint.aftercare import services
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.gateways import RecordingSmsGateway
from triggerpoint.notifications.models import ContactPreference, Status

pytestmark = pytest.mark.django_db


def _future_plan(patient, **kwargs):
    """A plan whose every message is still ahead (procedure tomorrow), so the test walks time forward."""
    return plan_for(signed_procedure(patient, on=timezone.localdate() + timedelta(days=1), **kwargs))


def _subject_and_first_line(message) -> tuple[str, str]:
    body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
    return message["Subject"], body.splitlines()[0]


def test_every_message_of_a_plan_arrives_exactly_once_across_an_smtp_outage(patient, smtp_server):
    plan = _future_plan(patient, sites=(("upper_trapezius", "left"),), drugs=("triamcinolone",))
    rows = list(services.reminders_for(plan))
    assert len(rows) >= 6  # the link message and the template's reminders
    send_times = sorted({row.send_after for row in rows})

    # The mail server is down for the link message and the first reminders.
    smtp_server.stop()
    outage_until = send_times[2]
    assert outbox.deliver_due(now=outage_until) == {Status.PENDING: 3}
    for row in services.reminders_for(plan)[:3]:
        assert row.status == Status.PENDING and row.attempts == 1 and row.last_error
    assert smtp_server.messages == []

    # The worker keeps sweeping while it is down: retries, still nothing lost or sent.
    assert outbox.deliver_due(now=outage_until + timedelta(minutes=1)) == {Status.PENDING: 3}

    smtp_server.start()
    for moment in [outage_until + timedelta(hours=1), *send_times[3:], send_times[-1] + timedelta(days=1)]:
        outbox.deliver_due(now=moment)
    # A lost task, a duplicate task, a second worker: delivering again sends nothing.
    for row in rows:
        assert outbox.deliver(row.pk, now=send_times[-1] + timedelta(days=2)) == Status.SENT
    outbox.deliver_due(now=send_times[-1] + timedelta(days=3))

    final = list(services.reminders_for(plan))
    assert {row.status for row in final} == {Status.SENT}
    assert len(smtp_server.messages) == len(rows)
    received = Counter(_subject_and_first_line(m) for m in smtp_server.messages)
    expected = Counter((row.subject, row.body.splitlines()[0]) for row in final)
    assert received == expected
    assert all(m["To"] == patient.email for m in smtp_server.messages)
    retried = [row for row in final if row.attempts > 1]
    assert len(retried) == 3 and all(row.sent_at is not None for row in final)


def test_the_first_email_carries_the_plan_link_and_later_ones_do_not(patient, smtp_server, client):
    plan = _future_plan(patient)
    rows = list(services.reminders_for(plan))
    outbox.deliver_due(now=rows[-1].send_after)
    first = smtp_server.messages[0].get_payload(decode=True).decode()
    url = next(line for line in first.splitlines() if "/aftercare/p/" in line)
    response = client.get(url.split("127.0.0.1:8000", 1)[1])
    assert response.status_code == 200
    assert plan.days[1]["tasks"][0]["text"] in response.content.decode()
    later = [m.get_payload(decode=True).decode() for m in smtp_server.messages[1:]]
    assert later and all("/aftercare/p/" not in body for body in later)


def test_after_the_patient_opts_out_no_further_reminder_is_sent(patient, smtp_server):
    plan = _future_plan(patient)
    rows = list(services.reminders_for(plan))
    outbox.deliver_due(now=rows[1].send_after)  # the link message and the first reminder went out
    assert len(smtp_server.messages) == 2
    services.stop_reminders(plan, via="portal")
    outbox.deliver_due(now=rows[-1].send_after + timedelta(days=1))
    assert len(smtp_server.messages) == 2
    statuses = Counter(row.status for row in services.reminders_for(plan))
    assert statuses == {Status.SENT: 2, Status.CANCELLED: len(rows) - 2}


def test_an_opt_out_between_claim_and_send_is_still_honoured(patient, smtp_server):
    plan = _future_plan(patient)
    rows = list(services.reminders_for(plan))
    # The preference changes without the service's cancellation (e.g. written by another process).
    ContactPreference.objects.create(patient=patient, reminders_opted_out=True)
    assert outbox.deliver(rows[1].pk, now=rows[1].send_after) == Status.CANCELLED
    assert smtp_server.messages == []


def test_sms_reminders_go_through_the_gateway_once(patient):
    patient.phone = "+15550123"
    patient.save()
    ContactPreference.objects.create(patient=patient, preferred_channel="sms")
    plan = _future_plan(patient)
    rows = list(services.reminders_for(plan))
    RecordingSmsGateway.sent.clear()
    for _ in range(2):
        outbox.deliver_due(now=rows[-1].send_after)
    assert [sms.to for sms in RecordingSmsGateway.sent] == ["+15550123"] * len(rows)
    assert "/aftercare/p/" in RecordingSmsGateway.sent[0].body
    assert RecordingSmsGateway.sent[1].body.startswith(f"{plan.clinic.name}: ")
