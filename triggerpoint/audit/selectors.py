"""Reads of the audit log for other apps (the log page and its export): the one place that filters events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from triggerpoint.audit.models import AuditEvent


def clinic_events(
    clinic: Any,
    *,
    patients: Any = None,
    actor_label: str = "",
    actions: Iterable[str] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The clinic's events with their patients, narrowed by whichever filters are given: about these patients
    (`patients`, a query of patient ids, run as a subquery), by this actor (exact username), of these actions,
    at or after `since`, before `before`. One query when evaluated."""
    events = AuditEvent.objects.filter(clinic=clinic)
    if patients is not None:
        events = events.filter(patient__in=patients)
    if actor_label:
        events = events.filter(actor_label=actor_label)  # exact: usernames are case-sensitive, and the index serves it
    if actions is not None:
        events = events.filter(action__in=list(actions))
    if since is not None:
        events = events.filter(at__gte=since)
    if before is not None:
        events = events.filter(at__lt=before)
    return events.select_related("patient")


def trail(clinic_id: int) -> QuerySet[AuditEvent]:
    """The clinic's events with their actor, patient and clinic (the FHIR AuditEvent view of the trail).

    Only the clinic's own chain: an event filed under no clinic (a system event) or another clinic's
    is never in it. Narrow it on indexed columns only: `pk`, `at` (index clinic, at), `patient`
    (patient, at), `actor_label` (clinic, actor_label, at), `action` (clinic, action, at)."""
    return AuditEvent.objects.filter(clinic_id=clinic_id).select_related("actor", "patient", "clinic")
