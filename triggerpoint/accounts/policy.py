"""The one place that answers "may this user do this to this record".

Views, API handlers and services call `can()` / `require()` /
`get_patient_for_user()`; nothing else checks roles. The table below is the
whole access policy of the product and is tested as a role × action matrix.

Principles:
- staff act only on records of their own clinic (anything else is a 404, so a
  record's existence never leaks across clinics);
- each role gets what its job needs: front desk handles demographics, not
  clinical notes; analysts see aggregate analytics, never identified records;
  clinic admins manage users, tokens and the audit log, not charts;
- a patient's portal account reaches only that patient's own records.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from triggerpoint.accounts.models import Role
from triggerpoint.audit.services import record_refusals
from triggerpoint.core import context

P, N, F, A, C = Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.ANALYST, Role.CLINIC_ADMIN

# action -> roles allowed. Action names are namespaced like audit actions.
STAFF_PERMISSIONS: dict[str, frozenset[str]] = {
    # patient record
    "patient.list": frozenset({P, N, F}),
    "patient.view": frozenset({P, N, F}),
    "patient.view_clinical": frozenset({P, N}),
    "patient.create": frozenset({P, N, F}),
    "patient.update": frozenset({P, N, F}),
    "patient.update_clinical": frozenset({P, N}),
    # merging a duplicate chart into another (patients.merging): the clinic admin, who answers for the records
    "patient.merge": frozenset({C}),
    "worklist.view": frozenset({P, N, F}),
    # schedule (scheduling app): the day and week views show who comes when (name, DOB, MRN), so they
    # are patient data; clinic admins run the diary in small clinics, so they may book too.
    "schedule.view": frozenset({P, N, F, C}),
    "appointment.book": frozenset({P, N, F, C}),
    "appointment.change": frozenset({P, N, F, C}),  # move, cancel, no-show, arrival and room steps
    # atlas (no patient data)
    "atlas.view": frozenset({P, N, F, A, C}),
    # assessment
    "assessment.view": frozenset({P, N}),
    "assessment.edit": frozenset({P, N}),
    "assessment.sign": frozenset({P}),
    "assessment.amend": frozenset({P}),
    # screening and consent
    "screening.view": frozenset({P, N}),
    "screening.edit": frozenset({P, N}),
    "screening.review": frozenset({P}),
    "screening.override": frozenset({P}),
    "screening.send_link": frozenset({P, N, F}),
    "consent.view": frozenset({P, N}),
    "consent.sign": frozenset({P, N}),
    # procedure note
    "procedure.view": frozenset({P, N}),
    "procedure.edit": frozenset({P, N}),
    "procedure.sign": frozenset({P}),
    "procedure.amend": frozenset({P}),
    "procedure.override_dose": frozenset({P}),
    "coding.view": frozenset({P, N, F}),
    # billing hand-off: the front desk codes and submits claims in the clinics we build for (docs/BILLING.md)
    "billing.view": frozenset({F}),
    "billing.mark": frozenset({F}),
    # aftercare
    "aftercare.view": frozenset({P, N}),
    "aftercare.edit": frozenset({P, N}),
    "reminder.view": frozenset({P, N, F}),
    # follow-up
    "followup.view": frozenset({P, N}),
    "followup.triage": frozenset({P, N}),
    "alert.acknowledge": frozenset({P, N}),
    "alert.resolve": frozenset({P, N}),
    "oncall.manage": frozenset({P, C}),
    # outcomes
    "outcomes.view": frozenset({P, N}),
    "outcomes.record": frozenset({P, N}),
    "analytics.view": frozenset({P, A}),
    "analytics.export": frozenset({P, A}),
    "analytics.export_deidentified": frozenset({P, A}),
    # administration
    "audit.view": frozenset({C}),
    "token.manage": frozenset({C}),
    "user.manage": frozenset({C}),
    "smart_client.manage": frozenset({C}),  # SMART Backend Services clients (accounts/smart_clients.py)
    # the clinic's directory (FHIR Practitioner, Organization): who works here and the clinic itself, no
    # patient data; every staff role of the clinic, so a reference in a record it may read resolves
    "practitioner.view": frozenset({P, N, F, A, C}),
    "organization.view": frozenset({P, N, F, A, C}),
    # pure clinical calculators exposed on the API (no patient data)
    "rules.evaluate": frozenset({P, N}),
    "rules.codes": frozenset({P, N, F}),
}

# What a patient may do with their own record through the portal.
PORTAL_PERMISSIONS: frozenset[str] = frozenset(
    {
        "patient.view",
        "portal.view",
        "organization.view",  # their clinic (the custodian of their records); never the staff list
        "screening.answer",
        "consent.view",
        "aftercare.view",
        "aftercare.track",  # tick own plan tasks done, stop own reminders
        "followup.report",
        "outcomes.record",
        "outcomes.view",
    }
)

ALL_ACTIONS: frozenset[str] = frozenset(STAFF_PERMISSIONS) | PORTAL_PERMISSIONS


def _record_clinic_id(record: Any) -> int | None:
    if record is None:
        return None
    clinic_id = getattr(record, "clinic_id", None)
    if clinic_id is None and getattr(record, "_meta", None) is not None and record._meta.label == "clinics.Clinic":
        clinic_id = record.pk
    return clinic_id


def _is_patient(record: Any) -> bool:
    return getattr(record, "_meta", None) is not None and record._meta.label == "patients.Patient"


def _record_patient_id(record: Any) -> int | None:
    if record is None:
        return None
    if _is_patient(record):
        return record.pk
    return getattr(record, "patient_id", None)


def can(user: Any, action: str, record: Any = None) -> bool:
    """True when `user` may perform `action` (on `record`, when given)."""
    if action not in ALL_ACTIONS:
        raise ValueError(f"Unknown action {action!r}: add it to the policy table")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    patient = getattr(user, "portal_patient", None) if not user.clinic_id else None
    if patient is not None:
        if action not in PORTAL_PERMISSIONS:
            return False
        if record is None:
            return True
        if _is_patient(record):  # the chart itself: the surviving one (a merged chart is reached through it)
            return record.pk == patient.pk
        return _record_patient_id(record) in user.portal_chart_ids
    if not user.clinic_id:
        return False
    if not (user.roles & STAFF_PERMISSIONS.get(action, frozenset())):
        return False
    clinic_id = _record_clinic_id(record)
    return record is None or clinic_id == user.clinic_id


def require(user: Any, action: str, record: Any = None) -> None:
    """Raise 404 for another clinic's or another patient's record, 403 for a role that lacks the action."""
    if can(user, action, record):
        return
    if record is not None and not _same_scope(user, record):
        raise Http404("No such record.")
    raise PermissionDenied(f"Your role does not allow {action}.")


def _same_scope(user: Any, record: Any) -> bool:
    if not user.is_authenticated:
        return False
    if user.clinic_id:
        return _record_clinic_id(record) == user.clinic_id
    patient = getattr(user, "portal_patient", None)
    return patient is not None and _record_patient_id(record) in user.portal_chart_ids


def scope_to_user(queryset, user: Any, action: str):
    """Filter a queryset of clinic records down to what `user` may `action`."""
    if not can(user, action):
        return queryset.none()
    if user.clinic_id:
        return queryset.filter(clinic_id=user.clinic_id)
    patient = user.portal_patient
    model = queryset.model
    if model._meta.label == "patients.Patient":
        return queryset.filter(pk=patient.pk)
    return queryset.filter(patient_id__in=user.portal_chart_ids)


def get_record_for_user(user: Any, model: Any, public_id: Any, action: str):
    """The record, if this user may `action` it; 404 when missing or out of scope, 403 for the wrong role.

    Patients have their own (`patients.selectors.get_patient_for_user`) with the same contract."""
    try:
        record = model.objects.get(public_id=public_id)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        audit_refusal(user, model, public_id, action, None)
        raise Http404("No such record.") from exc
    require_audited(user, action, record, public_id)
    return record


def require_audited(user: Any, action: str, record: Any, public_id: Any) -> None:
    try:
        require(user, action, record)
    except (Http404, PermissionDenied):
        audit_refusal(user, type(record), public_id, action, record)
        raise


def audit_refused_route(user: Any, action: str, route_kwargs: dict[str, Any]) -> None:
    """A role refused at a record route's door (before the record is read): audit each id in the URL."""
    for name, value in route_kwargs.items():
        if name == "public_id" or name.endswith("_id"):
            _note(user, "", value, action, "forbidden", 403, None)


def audit_refusal(user: Any, model: Any, public_id: Any, action: str, record: Any) -> None:
    """Audit a refused access to a record route with the id that was asked for (ONC 170.315(d)(2)).

    Outcomes: `not_found` (no such id), `out_of_scope` (another clinic's or
    another patient's record: answered 404 so its existence is not revealed),
    `forbidden` (the role lacks the action: 403, names the patient). The event is
    filed under the actor's clinic; it is written after the response (see
    `core.context.note_refusal`) so a rolled-back transaction cannot lose it.
    """
    if record is None:
        outcome, status, patient_id = "not_found", 404, None
    elif not _same_scope(user, record):
        outcome, status, patient_id = "out_of_scope", 404, None
    else:
        outcome, status, patient_id = "forbidden", 403, _record_patient_id(record)
    _note(user, model._meta.label_lower, public_id, action, outcome, status, patient_id)


def _note(user: Any, object_type: str, public_id: Any, action: str, outcome: str, status: int, patient_id) -> None:
    clinic_id = getattr(user, "clinic_id", None) if getattr(user, "is_authenticated", False) else None
    if clinic_id is None and getattr(user, "is_authenticated", False):
        clinic_id = getattr(getattr(user, "portal_patient", None), "clinic_id", None)
    refusal = {
        "actor": user if getattr(user, "is_authenticated", False) else None,
        "object_type": object_type,
        "requested_id": str(public_id),
        "requested_action": action,
        "outcome": outcome,
        "status": status,
        "patient_id": patient_id,
        "clinic_id": clinic_id,
    }

    if not context.note_refusal(refusal):
        record_refusals([refusal])
