from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from triggerpoint.notifications import services, tasks
from triggerpoint.notifications.gateways import RecordingSmsGateway
from triggerpoint.notifications.models import Notification, Status


def _enqueue(patient, key="k1", kind="aftercare.reminder", channel="email", send_after=None):
    return services.enqueue(
        clinic=patient.clinic, patient=patient, kind=kind, channel=channel,
        to=patient.email if channel == "email" else "+15550100", subject="Your plan", body="Start heat today.",
        idempotency_key=key, send_after=send_after,
    )


def test_an_email_is_delivered_through_a_real_smtp_server(patient, smtp_server):
    note = _enqueue(patient)
    assert services.deliver(note.pk) == Status.SENT
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == patient.email
    note.refresh_from_db()
    assert note.status == Status.SENT and note.attempts == 1 and note.sent_at is not None


def test_enqueueing_the_same_key_twice_is_one_message(patient):
    first = _enqueue(patient, key="same")
    second = _enqueue(patient, key="same")
    assert first.pk == second.pk
    assert Notification.objects.count() == 1


def test_a_notification_is_sent_once_even_when_delivered_twice(patient, smtp_server):
    note = _enqueue(patient)
    assert services.deliver(note.pk) == Status.SENT
    assert services.deliver(note.pk) == Status.SENT  # the second attempt finds nothing to claim
    assert len(smtp_server.messages) == 1


def test_nothing_is_lost_or_duplicated_when_the_mail_server_is_down_then_back(patient, smtp_server):
    notes = [_enqueue(patient, key=f"down-{i}") for i in range(3)]
    smtp_server.stop()
    assert services.deliver_due() == {Status.PENDING: 3}
    for note in notes:
        note.refresh_from_db()
        assert note.status == Status.PENDING and note.attempts == 1 and note.next_attempt_at > timezone.now()
        assert "Connection refused" in note.last_error or "Error" in note.last_error
    # Not yet due: the backoff holds them back.
    assert services.deliver_due() == {}
    smtp_server.start()
    later = timezone.now() + timedelta(minutes=5)
    assert services.deliver_due(now=later) == {Status.SENT: 3}
    assert services.deliver_due(now=later + timedelta(hours=1)) == {}
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Your plan"] * 3
    assert Notification.objects.filter(status=Status.SENT).count() == 3


def test_backoff_grows_and_is_capped():
    policy = services.RetryPolicy(first_delay_seconds=30, max_delay_seconds=600)
    assert [policy.delay_after(n).total_seconds() for n in (1, 2, 3, 6)] == [30, 60, 120, 600]


def test_delivery_gives_up_after_the_last_attempt(patient, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    note = _enqueue(patient)
    Notification.objects.filter(pk=note.pk).update(attempts=services.RETRY.max_attempts - 1)
    assert services.deliver(note.pk) == Status.FAILED


def test_a_future_reminder_waits_for_its_time(patient, smtp_server):
    note = _enqueue(patient, send_after=timezone.now() + timedelta(days=1))
    assert services.deliver(note.pk) == Status.PENDING
    assert smtp_server.messages == []
    assert services.deliver_due(now=timezone.now() + timedelta(days=1, seconds=1)) == {Status.SENT: 1}


def test_opting_out_cancels_pending_reminders_and_blocks_new_ones(patient, smtp_server):
    pending = _enqueue(patient, key="r1")
    services.set_reminder_opt_out(patient, True)
    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    late = _enqueue(patient, key="r2")
    assert services.deliver(late.pk) == Status.CANCELLED
    assert smtp_server.messages == []


def test_staff_paging_is_not_affected_by_a_patient_opt_out(patient, physician):
    services.set_reminder_opt_out(patient, True)
    RecordingSmsGateway.sent.clear()
    page = services.enqueue(clinic=patient.clinic, patient=patient, recipient_user=physician, kind="followup.page",
                            channel="sms", to="+15550199", body="Urgent check-in", idempotency_key="page-1")
    assert services.deliver(page.pk) == Status.SENT
    assert RecordingSmsGateway.sent[-1].to == "+15550199"


@pytest.mark.django_db(transaction=True)
def test_the_notification_is_written_in_the_callers_transaction(clinic_a):
    from triggerpoint.conftest import make_patient

    patient = make_patient(clinic_a, "TX-1")
    with pytest.raises(RuntimeError), transaction.atomic():
        _enqueue(patient, key="rolled-back")
        raise RuntimeError("the event failed")
    assert not Notification.objects.filter(idempotency_key="rolled-back").exists()


def test_a_link_opens_only_its_own_purpose_and_expires(patient):
    link, raw = services.issue_link(patient, "aftercare.plan", "plan-123", timedelta(days=14))
    assert services.resolve_link(raw, "aftercare.plan").pk == link.pk
    with pytest.raises(services.LinkInvalid):
        services.resolve_link(raw, "followup.checkin")
    with pytest.raises(services.LinkInvalid):
        services.resolve_link(raw + "x", "aftercare.plan")
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    with pytest.raises(services.LinkInvalid, match="expired"):
        services.resolve_link(raw, "aftercare.plan")


def test_only_the_token_hash_is_stored(patient):
    link, raw = services.issue_link(patient, "aftercare.plan", "x", timedelta(days=1))
    assert raw not in link.token_hash and len(link.token_hash) == 64


def test_scheduling_uses_the_workers_delivery_task_provided_at_start_up(monkeypatch):
    # services never imports tasks (tasks runs services.deliver); NotificationsConfig.ready provides the task.
    assert services._delivery_task() is tasks.deliver_notification
    monkeypatch.setattr(services, "_provided", {})
    with pytest.raises(ImproperlyConfigured, match="no delivery task"):
        services.schedule(Notification(send_after=timezone.now()))
