"""The one way to write an audit event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core import context


def record(
    action: str,
    *,
    obj: Any = None,
    patient: Any = None,
    clinic: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEvent:
    """Append one audit event; actor, IP and request id come from the request context."""
    ctx = context.current()
    actor = actor if actor is not None else ctx.actor
    if patient is None and obj is not None and obj.__class__.__name__ == "Patient":
        patient = obj
    if patient is None:
        patient = getattr(obj, "patient", None)
    if clinic is None:
        clinic = getattr(obj, "clinic", None) or getattr(patient, "clinic", None)
    object_id = ""
    if obj is not None:
        object_id = str(getattr(obj, "public_id", None) or getattr(obj, "pk", "") or "")
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or "system",
        action=action,
        object_type=obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else "",
        object_id=object_id,
        patient=patient,
        clinic=clinic,
        ip=ctx.ip,
        request_id=ctx.request_id,
        details=details or {},
    )


def record_patient_views(
    action: str,
    patients: Iterable[Any],
    *,
    clinic: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> list[AuditEvent]:
    """One audit event per patient a list, search or worklist showed, written in one INSERT.

    A list names every patient on screen, so "who saw this patient's name, and when" is
    answered by the patient's own audit trail, not by a count on a search event. The rows go
    in with one bulk insert per response (SQLite splits more than ~90 rows into batches of
    its parameter limit). `patients` are Patient instances or their primary keys; each is
    recorded once, in the order first shown. Shows nobody: writes nothing.
    """
    ctx = context.current()
    actor = actor if actor is not None else ctx.actor
    seen: dict[int, None] = {}
    for patient in patients:
        seen.setdefault(getattr(patient, "pk", patient), None)
    if not seen:
        return []
    now = timezone.now()
    common = {
        "at": now,
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_label": getattr(actor, "username", "") or "system",
        "action": action,
        "clinic_id": getattr(clinic, "pk", clinic),
        "ip": ctx.ip,
        "request_id": ctx.request_id,
        "details": details or {},
    }
    return AuditEvent.objects.bulk_create([AuditEvent(patient_id=pk, **common) for pk in seen])
