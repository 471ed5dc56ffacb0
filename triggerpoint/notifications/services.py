"""Outbox and tokenised-link services (the only way other apps send or link).

The background worker's tasks (``tasks``) run this module's `deliver`, so ``tasks`` imports
this module and this module never imports ``tasks``: the delivery task `schedule` queues is
provided at start-up (`NotificationsConfig.ready` calls `provide_delivery_task`). One way,
because delivery is the domain and the task only its entry point for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from triggerpoint.audit import services as audit
from triggerpoint.core.changes import records_changed
from triggerpoint.notifications.gateways import DeliveryError, send_email, sms_gateway
from triggerpoint.notifications.models import (
    Channel,
    ContactPreference,
    Notification,
    PatientLink,
    Status,
    hash_link_token,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for failed deliveries: 30 s, 1 min, 2 min, … capped at 30 min, give up after 12 tries."""

    first_delay_seconds: int = 30
    max_delay_seconds: int = 30 * 60
    max_attempts: int = 12

    def delay_after(self, attempts: int) -> timedelta:
        seconds = min(self.first_delay_seconds * 2 ** max(attempts - 1, 0), self.max_delay_seconds)
        return timedelta(seconds=seconds)


RETRY = RetryPolicy()

#: A message whose link would expire sooner than this after delivery is withdrawn, not sent:
#: the patient needs a little time to open it, and a link that is dead on arrival only
#: sends them to an error page (hazard HAZ-EXPIRED-LINK-SENT).
LINK_MIN_REMAINING = timedelta(minutes=15)
REMINDER_KINDS_PREFIXES = ("aftercare.", "followup.checkin", "outcomes.request", "screening.", "scheduling.reminder")


def enqueue(
    *,
    clinic,
    kind: str,
    channel: str,
    to: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    patient=None,
    recipient_user=None,
    send_after: datetime | None = None,
    related=None,
    link: PatientLink | None = None,
    attachments: list[dict] | None = None,
) -> Notification:
    """Write a notification in the caller's transaction; delivery is scheduled after commit.

    Enqueueing the same idempotency key again returns the existing row, so a
    retried request or a re-run job never produces a second message. Pass the
    `link` the body carries: a message is withdrawn instead of sent once its link
    has expired or been revoked (a late worker must not mail a dead link).
    """
    existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    note = Notification.objects.create(
        clinic=clinic,
        patient=patient,
        recipient_user=recipient_user,
        kind=kind,
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        send_after=send_after or timezone.now(),
        link=link,
        attachments=list(attachments or []) if channel == Channel.EMAIL else [],
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(getattr(related, "public_id", "") or getattr(related, "pk", "")) if related is not None else "",
    )
    transaction.on_commit(lambda: schedule(note))
    return note


_provided: dict[str, Any] = {}


def provide_delivery_task(task: Any) -> None:
    """Called by `NotificationsConfig.ready` with ``tasks.deliver_notification`` (see the module docstring)."""
    _provided["deliver_notification"] = task


def _delivery_task() -> Any:
    try:
        return _provided["deliver_notification"]
    except KeyError:
        raise ImproperlyConfigured(
            "notifications.services has no delivery task (NotificationsConfig.ready provides it)"
        ) from None


def email_staff(*, user, kind: str, subject: str, body: str, idempotency_key: str) -> Notification:
    """An email to a staff member of a clinic (an enrolment link), through the outbox like every message."""
    return enqueue(clinic=user.clinic, kind=kind, channel=Channel.EMAIL, to=user.email, subject=subject, body=body,
                   idempotency_key=idempotency_key, recipient_user=user, related=user)


def schedule(note: Notification) -> None:
    """Queue the delivery task to run at the notification's time (the task table is in the same database)."""
    deliver_notification = _delivery_task()
    when = note.next_attempt_at or note.send_after
    task = deliver_notification.using(run_after=when) if when > timezone.now() else deliver_notification
    task.enqueue(note.pk)


def is_opted_out(note: Notification) -> bool:
    if note.patient_id is None or not note.kind.startswith(REMINDER_KINDS_PREFIXES):
        return False
    return ContactPreference.objects.filter(patient_id=note.patient_id, reminders_opted_out=True).exists()


def deliver(notification_id: int, now: datetime | None = None) -> str:
    """Deliver one notification at most once; returns the resulting status.

    The row is claimed with a conditional UPDATE (pending → sending) so two
    workers, or a retry racing a sweep, cannot both send it.
    """
    now = now or timezone.now()
    due = Q(send_after__lte=now) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    count = Notification.objects.filter(Q(pk=notification_id, status=Status.PENDING) & due).update(
        status=Status.SENDING, attempts=F("attempts") + 1
    )
    if count == 0:
        return Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first() or "missing"
    note = Notification.objects.select_related("link").get(pk=notification_id)
    try:
        return _deliver_claimed(note, now)
    finally:  # the chart timeline summarises the patient's messages by state (core.changes)
        records_changed(Notification, [note.patient_id])


def _deliver_claimed(note: Notification, now: datetime) -> str:
    """Send a message this worker has claimed (status sending) and record what happened; returns the status."""
    if is_opted_out(note):
        Notification.objects.filter(pk=note.pk).update(status=Status.CANCELLED, last_error="patient opted out")
        return Status.CANCELLED
    dead_link = link_unusable_reason(note.link, now)
    if dead_link:
        withdraw(note, dead_link)
        return Status.WITHDRAWN
    try:
        if note.channel == Channel.EMAIL:
            send_email(note.to, note.subject or "Message from your clinic", note.body, note.attachments)
        else:
            sms_gateway().send(note.to, note.body)
    except DeliveryError as exc:
        if note.attempts >= RETRY.max_attempts:
            Notification.objects.filter(pk=note.pk).update(status=Status.FAILED, last_error=str(exc)[:2000])
            return Status.FAILED
        retry_at = timezone.now() + RETRY.delay_after(note.attempts)
        Notification.objects.filter(pk=note.pk).update(
            status=Status.PENDING, next_attempt_at=retry_at, last_error=str(exc)[:2000]
        )
        note.next_attempt_at = retry_at
        schedule(note)
        return Status.PENDING
    Notification.objects.filter(pk=note.pk).update(status=Status.SENT, sent_at=timezone.now(), last_error="")
    return Status.SENT


def link_unusable_reason(link: PatientLink | None, now: datetime) -> str:
    """Why a message carrying `link` must not go out at `now` ("" when it may)."""
    if link is None:
        return ""
    if link.revoked_at is not None:
        return f"withdrawn: the link was revoked at {link.revoked_at.isoformat()} before delivery"
    if link.expires_at <= now + LINK_MIN_REMAINING:
        return f"withdrawn: the link expires at {link.expires_at.isoformat()}, before the patient could use it"
    return ""


def withdraw(note: Notification, reason: str) -> None:
    """Mark a claimed message withdrawn (never sent) and record why, on the row and in the audit log."""
    Notification.objects.filter(pk=note.pk).update(status=Status.WITHDRAWN, last_error=reason[:2000])
    audit.record(
        "notifications.message.withdrawn",
        obj=note,
        patient=note.patient,
        clinic=note.clinic,
        details={"kind": note.kind, "channel": note.channel, "reason": reason, "link_id": note.link_id},
    )


def deliver_due(now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Deliver everything that is due (a sweep: catches rows whose task was lost, and is handy in tests)."""
    now = now or timezone.now()
    due = Notification.objects.filter(status=Status.PENDING, send_after__lte=now).exclude(next_attempt_at__gt=now)
    counts: dict[str, int] = {}
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        status = deliver(pk, now=now)
        counts[status] = counts.get(status, 0) + 1
    return counts


def cancel_pending(*, patient=None, related=None, kind_prefix: str = "", reason: str = "cancelled") -> int:
    """Cancel messages not yet sent (a scheduled reminder whose appointment moved or was cancelled).

    A message already claimed by a worker (sending) or sent is left alone: only pending rows change,
    in one UPDATE, so a cancellation and a delivery cannot both win. Returns how many were cancelled.
    """
    qs = Notification.objects.filter(status=Status.PENDING)
    if patient is not None:
        qs = qs.filter(patient=patient)
    if related is not None:
        qs = qs.filter(related_type=related._meta.label_lower, related_id=str(getattr(related, "public_id", related.pk)))
    if kind_prefix:
        qs = qs.filter(kind__startswith=kind_prefix)
    patient_ids = [patient.pk] if patient is not None else list(qs.values_list("patient_id", flat=True).distinct())
    cancelled = qs.update(status=Status.CANCELLED, last_error=reason[:2000])
    if cancelled:
        records_changed(Notification, patient_ids)
    return cancelled


def cancel_waiting(notification_ids: list[int], reason: str) -> int:
    """Cancel these messages if they are still waiting (never claimed by a worker), recording why.

    One UPDATE, so a cancellation and a delivery cannot both win; returns how many were cancelled.
    """
    waiting = Notification.objects.filter(pk__in=list(notification_ids), status=Status.PENDING)
    patient_ids = list(waiting.values_list("patient_id", flat=True).distinct())
    cancelled = waiting.update(status=Status.CANCELLED, last_error=reason[:2000])
    if cancelled:
        records_changed(Notification, patient_ids)
    return cancelled


def reword_waiting(note: Notification, *, subject: str, body: str) -> int:
    """New wording for a message no worker has tried yet (1), or nothing (0) once an attempt was made."""
    return Notification.objects.filter(pk=note.pk, status=Status.PENDING, attempts=0).update(subject=subject, body=body)


@transaction.atomic
def set_reminder_opt_out(patient, opted_out: bool) -> ContactPreference:
    """Stop (or restart) reminders; pending reminders are cancelled at once, not at send time only."""
    pref, _ = ContactPreference.objects.get_or_create(patient=patient)
    pref.reminders_opted_out = opted_out
    pref.opted_out_at = timezone.now() if opted_out else None
    pref.save()
    if opted_out:
        for prefix in REMINDER_KINDS_PREFIXES:
            cancel_pending(patient=patient, kind_prefix=prefix)
    audit.record("patients.reminders.opted_out" if opted_out else "patients.reminders.opted_in", obj=patient)
    return pref


def patient_channel(patient) -> tuple[str, str] | None:
    """(channel, address) for a message to the patient: their preferred channel when the chart has that
    address, else the other one; None when the chart has neither an email nor a phone."""
    preferred = ContactPreference.objects.filter(patient=patient).values_list("preferred_channel", flat=True).first()
    options = [(Channel.EMAIL, patient.email), (Channel.SMS, patient.phone)]
    if preferred == Channel.SMS:
        options.reverse()
    for channel, address in options:
        if (address or "").strip():
            return str(channel), address.strip()
    return None


def notifications_for(patient):
    return Notification.objects.filter(patient=patient).order_by("-send_after")


# ------------------------------------------------------------------ tokenised links
class LinkInvalid(Exception):
    """The link is unknown, expired, revoked, or for something else.

    `patient` is set when the token is a real link of a known patient (expired, revoked, or sent
    for another purpose), so the refusal page can speak that patient's language; it is None for
    a token nobody was sent. The page never shows anything about the patient.
    """

    def __init__(self, message: str, patient=None):
        super().__init__(message)
        self.patient = patient


def issue_link(patient, purpose: str, target, valid_for: timedelta | None = None, *,
               expires_at: datetime | None = None) -> tuple[PatientLink, str]:
    """Create a link for one object, valid for `valid_for` or until `expires_at`; returns the row and the
    raw token (only ever sent, never stored)."""
    target_id = str(getattr(target, "public_id", target))
    return PatientLink.issue(patient, purpose, target_id, valid_for, expires_at=expires_at)


def revoke_links(purpose: str, target) -> int:
    """Revoke every live link of `purpose` to `target` (a cancelled appointment's links); messages that
    carry them and are still waiting are then withdrawn at delivery instead of sent."""
    target_id = str(getattr(target, "public_id", target))
    return PatientLink.objects.filter(purpose=purpose, target_id=target_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


def set_link_expiry(purpose: str, target, expires_at: datetime) -> int:
    """Make the live links of `purpose` to `target` expire at `expires_at` (a moved appointment's links)."""
    target_id = str(getattr(target, "public_id", target))
    return PatientLink.objects.filter(purpose=purpose, target_id=target_id, revoked_at__isnull=True).update(
        expires_at=expires_at)


def extend_links(patient_id: int, purpose: str, target_ids: list[str], until: datetime, now: datetime) -> int:
    """Lengthen the patient's live links of `purpose` to these targets so they last `until`.

    Only lengthens (a link already lasting that long is untouched), never shortens, and never revives a
    revoked or expired link. Returns how many links changed.
    """
    return PatientLink.objects.filter(
        patient_id=patient_id, purpose=purpose,
        target_id__in=[str(t) for t in target_ids], revoked_at__isnull=True, expires_at__gt=now, expires_at__lt=until,
    ).update(expires_at=until)


def link_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def resolve_link(raw_token: str, purpose: str) -> PatientLink:
    """The link for this token if it is valid *for this purpose*; raises LinkInvalid otherwise."""
    if not raw_token or len(raw_token) > 200:
        raise LinkInvalid("This link is not valid.")
    link = PatientLink.objects.select_related("patient", "clinic").filter(token_hash=hash_link_token(raw_token)).first()
    if link is None:
        raise LinkInvalid("This link is not valid.")
    if link.purpose != purpose:
        raise LinkInvalid("This link is not valid.", patient=link.patient)
    if link.revoked_at is not None:
        raise LinkInvalid("This link has been withdrawn. Please contact the clinic.", patient=link.patient)
    if link.expires_at <= timezone.now():
        raise LinkInvalid("This link has expired. Please contact the clinic for a new one.", patient=link.patient)
    PatientLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link
