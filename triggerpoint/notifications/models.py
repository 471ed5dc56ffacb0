"""Patient-facing delivery: the outbox and tokenised links.

Outbox: a notification row is written in the same transaction as the event
that causes it (a signed procedure, a plan, an alert), then delivered by a
background task. A delivery is claimed with a conditional UPDATE so two
workers can never send the same row; failures are retried with backoff and
the row shows its status on the patient's chart. Nothing is lost when the
mail server is down: the row simply waits.

Links: a tokenised link lets a patient open one thing (a questionnaire, a
plan, a check-in) from a message without logging in. Only the token's hash
is stored; each link is scoped to one purpose and one object and expires.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from triggerpoint.notifications.choices import Channel, Status


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    recipient_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="a staff recipient (on-call paging)",
    )
    kind = models.CharField(max_length=60)  # e.g. aftercare.reminder, followup.checkin, followup.page
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # A stable key per logical message: enqueueing the same key twice is a no-op.
    idempotency_key = models.CharField(max_length=200, unique=True)
    related_type = models.CharField(max_length=100, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    # The tokenised link the body carries, if any: delivery checks it is still valid.
    link = models.ForeignKey(
        "notifications.PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications",
    )
    # Files sent with an email (an appointment's .ics): [{"filename", "content_type", "content"}], text content.
    # SMS carries none.
    attachments = models.JSONField(default=list, blank=True)
    send_after = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [models.Index(fields=["status", "send_after"]), models.Index(fields=["related_type", "related_id"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.status})"


class ContactPreference(models.Model):
    """A patient's opt-out of reminder messages (safety alerts to staff are not affected)."""

    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="contact_preference")
    reminders_opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)

    def __str__(self) -> str:
        return f"contact preferences of patient {self.patient_id}"


def hash_link_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PatientLink(models.Model):
    """A tokenised, expiring link scoped to one purpose and one object of one patient."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="links")
    purpose = models.CharField(max_length=40)  # screening.questionnaire, aftercare.plan, followup.checkin
    target_id = models.CharField(max_length=64)  # the public id of the object the link opens
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["purpose", "target_id"])]

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.target_id}"

    @classmethod
    def issue(cls, patient, purpose: str, target_id: str, valid_for: timedelta | None = None, *,
              expires_at: datetime | None = None) -> tuple[PatientLink, str]:
        """A new link valid for `valid_for` from now, or until `expires_at` (an appointment's start)."""
        if (valid_for is None) == (expires_at is None):
            raise ValueError("give either valid_for or expires_at")
        raw = secrets.token_urlsafe(24)
        link = cls.objects.create(
            clinic=patient.clinic, patient=patient, purpose=purpose, target_id=str(target_id),
            token_hash=hash_link_token(raw), expires_at=expires_at or timezone.now() + valid_for,
        )
        return link, raw

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
