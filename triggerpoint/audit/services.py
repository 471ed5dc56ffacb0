"""The one way to write audit events: `record` for one event, `record_patient_views` for a list shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from triggerpoint.audit.models import AuditEvent, PatientView
from triggerpoint.core import context


def _actor_fields(actor: Any) -> dict[str, Any]:
    ctx = context.current()
    actor = actor if actor is not None else ctx.actor
    return {
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_label": getattr(actor, "username", "") or "system",
        "ip": ctx.ip,
        "request_id": ctx.request_id,
    }


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
        action=action,
        object_type=obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else "",
        object_id=object_id,
        patient=patient,
        clinic=clinic,
        details=details or {},
        **_actor_fields(actor),
    )


def record_patient_views(
    action: str,
    patients: Iterable[Any],
    *,
    clinic: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> list[PatientView]:
    """Audit that a page or API response showed these patients: one event per patient, one INSERT.

    Lists, searches and worklists show many patients at once; ONC 170.315(d)(2)
    and HIPAA's access accounting need each patient's own event ("who saw my
    record"), not one event with a count. The events share `details` and the
    request id, name the patient (`object_type` patients.patient, `object_id`
    its public id) and are chained like any other event. A patient appearing
    twice in `patients` is recorded once. An empty list records nothing.

    The events are written as `PatientView` rows in one statement (`AuditQuerySet.append_views`):
    the returned rows carry `patient_id`, `object_id` and their place in the chain, not a primary key.

    Usage: ``record_patient_views("patients.patient.listed", page_of_patients, details={"channel": "api"})``.
    """
    common = _actor_fields(actor)
    common["actor_id"] = getattr(common.pop("actor"), "pk", None)
    shared = {"action": action, "object_type": "patients.patient", "details": dict(details or {}), "at": timezone.now()}
    seen: set[int] = set()
    views = []
    fallback_clinic_id = getattr(clinic, "pk", clinic)
    for patient in patients:
        pk = getattr(patient, "pk", patient)
        if pk in seen:
            continue
        seen.add(pk)
        public_id = getattr(patient, "public_id", None)
        views.append(PatientView(object_id=str(public_id) if public_id else "", patient_id=pk,
                                 clinic_id=getattr(patient, "clinic_id", None) or fallback_clinic_id,
                                 **shared, **common))
    return AuditEvent.objects.append_views(views)


def record_refusals(refusals: list[dict[str, Any]]) -> list[AuditEvent]:
    """Write the refused accesses noted during a request (accounts.policy), one event each, one INSERT.

    Each refusal names the requested id (`object_id`), the kind of record and
    the action asked for; a record of the user's own clinic (refused for the
    role) also names its patient. Refusals are filed under the actor's clinic.
    """
    events = [
        AuditEvent(
            action="audit.access.refused",
            object_type=refusal.get("object_type", ""),
            object_id=str(refusal.get("requested_id", ""))[:64],
            patient_id=refusal.get("patient_id"),
            clinic_id=refusal.get("clinic_id"),
            details={k: refusal[k] for k in ("requested_action", "outcome", "status") if k in refusal},
            **_actor_fields(refusal.get("actor")),
        )
        for refusal in refusals
    ]
    refusals.clear()
    return AuditEvent.objects.bulk_create(events)
