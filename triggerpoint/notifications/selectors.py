"""Reads of the outbox and of contact preferences for other apps.

Other apps ask here instead of filtering the notification tables themselves, so what "waiting",
"not getting through" or "opted out" means stays in this app. Changes go through ``services``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from triggerpoint.notifications.choices import Status
from triggerpoint.notifications.models import ContactPreference, Notification


def contact_preference(patient) -> ContactPreference | None:
    """The patient's contact preferences (preferred channel, reminder opt-out), or None when never set."""
    return ContactPreference.objects.filter(patient=patient).first()


def preferred_channel(patient) -> str | None:
    """The patient's preferred channel ("email" or "sms"), or None when never set."""
    return ContactPreference.objects.filter(patient=patient).values_list("preferred_channel", flat=True).first()


def reminders_opted_out(patient) -> bool:
    """Has the patient stopped reminder messages?"""
    return ContactPreference.objects.filter(patient=patient, reminders_opted_out=True).exists()


def message_exists(idempotency_key: str) -> bool:
    """Is a message with this key already in the outbox (whatever its status)?"""
    return Notification.objects.filter(idempotency_key=idempotency_key).exists()


def messages_about(related_label: str, related_ids: Iterable[str], *, patient=None, kinds: Iterable[str] | None = None):
    """The outbox rows about these records (`related_label` is the model's ``_meta.label_lower``, the ids
    their public ids), optionally of one patient and of these kinds, in send order."""
    messages = Notification.objects.filter(related_type=related_label, related_id__in=[str(i) for i in related_ids])
    if patient is not None:
        messages = messages.filter(patient=patient)
    if kinds is not None:
        messages = messages.filter(kind__in=list(kinds))
    return messages.order_by("send_after", "id")


def undelivered_patient_messages(clinic_id: int, kinds: Iterable[str]):
    """The clinic's patient messages of these kinds that are not getting through (given up, or waiting to be
    retried after a failed attempt), with their patients, oldest first."""
    return (
        Notification.objects.filter(clinic_id=clinic_id, kind__in=list(kinds), patient__isnull=False)
        .filter(Q(status=Status.FAILED) | Q(status=Status.PENDING, attempts__gt=0))
        .select_related("patient")
        .order_by("send_after")
    )
