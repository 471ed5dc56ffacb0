"""A message whose link has expired (or been revoked) before delivery is withdrawn, never sent.

Hazard HAZ-EXPIRED-LINK-SENT: a worker that was down for weeks must not mail patients links
that only lead to an error page.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from triggerpoint.audit.models import AuditEvent
from triggerpoint.notifications import services
from triggerpoint.notifications.models import Notification, Status


def _linked_message(patient, valid_for, key="linked", send_after=None):
    link, raw = services.issue_link(patient, "outcomes.request", "target-1", valid_for)
    note = services.enqueue(
        clinic=patient.clinic, patient=patient, kind="outcomes.request", channel="email", to=patient.email,
        subject="How are you now?", body=f"Answer here: https://clinic.example/r/{raw}/",
        idempotency_key=key, send_after=send_after, link=link,
    )
    return note, link


def test_a_message_whose_link_expired_weeks_ago_is_withdrawn_not_sent(patient, smtp_server):
    note, link = _linked_message(patient, timedelta(days=7))
    three_weeks_later = timezone.now() + timedelta(days=28)
    assert services.deliver(note.pk, now=three_weeks_later) == Status.WITHDRAWN
    assert smtp_server.messages == []
    note.refresh_from_db()
    assert note.status == Status.WITHDRAWN and note.sent_at is None
    assert note.last_error.startswith("withdrawn: the link expires at")
    event = AuditEvent.objects.get(action="notifications.message.withdrawn")
    assert event.patient_id == patient.pk and event.object_id == str(note.public_id)
    assert event.details["link_id"] == link.pk and "withdrawn" in event.details["reason"]


def test_the_sweep_withdraws_stale_messages_and_still_sends_fresh_ones(patient, smtp_server):
    _linked_message(patient, timedelta(days=7), key="stale")
    _linked_message(patient, timedelta(days=60), key="fresh")
    assert services.deliver_due(now=timezone.now() + timedelta(days=28)) == {Status.WITHDRAWN: 1, Status.SENT: 1}
    assert len(smtp_server.messages) == 1
    assert Notification.objects.get(idempotency_key="fresh").status == Status.SENT


def test_a_link_with_16_minutes_left_is_sent(patient, smtp_server):
    note, _ = _linked_message(patient, timedelta(minutes=16))
    assert services.deliver(note.pk) == Status.SENT
    assert len(smtp_server.messages) == 1


def test_a_link_with_14_minutes_left_is_withdrawn(patient, smtp_server):
    note, _ = _linked_message(patient, timedelta(minutes=14))
    assert services.deliver(note.pk) == Status.WITHDRAWN
    assert smtp_server.messages == []


def test_a_revoked_link_is_withdrawn(patient, smtp_server):
    note, link = _linked_message(patient, timedelta(days=7))
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    assert services.deliver(note.pk) == Status.WITHDRAWN
    assert smtp_server.messages == []
    note.refresh_from_db()
    assert "revoked" in note.last_error


def test_a_withdrawn_message_is_never_retried(patient, smtp_server):
    note, _ = _linked_message(patient, timedelta(days=1))
    later = timezone.now() + timedelta(days=2)
    assert services.deliver(note.pk, now=later) == Status.WITHDRAWN
    assert services.deliver_due(now=later + timedelta(hours=1)) == {}
    assert smtp_server.messages == []


def test_a_message_without_a_link_is_unaffected(patient, smtp_server):
    note = services.enqueue(
        clinic=patient.clinic, patient=patient, kind="aftercare.reminder", channel="email", to=patient.email,
        subject="Heat", body="Use gentle heat tonight.", idempotency_key="no-link",
    )
    assert services.deliver(note.pk, now=timezone.now() + timedelta(days=30)) == Status.SENT
    assert len(smtp_server.messages) == 1
