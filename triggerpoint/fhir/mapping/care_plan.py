"""CarePlan: the aftercare plan a patient was given after a procedure (US Core CarePlan).

Registration (see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[AftercarePlan]`` (``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD``
  ``clinic_id``, ``patient`` search on ``patient__public_id``; ``category`` is always ``assess-plan``);
* ``to_resource(plan, *, base_url=None) -> dict`` - id = the plan's public id; ``patient_of``,
  ``filter_ids``, ``get``, ``resources_for_patient``.

US Core CarePlan asks for category ``assess-plan``, status, intent and a narrative: the narrative is
the plan as handed out, day by day (its tasks in the language the patient was given). ``period``
runs from the procedure day to the plan's last day; the status is ``active`` until that day has
passed, then ``completed``. The notes the plan covers are its ``supportingInfo`` (R4's CarePlan has
no field that names the procedure that prompted it), and it ``addresses`` the Conditions those notes
were signed for.
"""

from __future__ import annotations

import sys
from html import escape
from typing import Any

from django.utils import timezone

from triggerpoint.aftercare import selectors as aftercare_selectors
from triggerpoint.fhir.mapping import procedure as procedure_mapper
from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_CARE_PLAN,
    day,
    first_by_id,
    for_patients,
    instant,
    patient_reference,
    prune,
    uuids,
)

ASSESS_PLAN = {"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                           "code": "assess-plan", "display": "Assessment and Plan of Treatment"}],
               "text": "Aftercare after trigger point injection"}


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"


def records(**filters):
    """The plans with the notes they cover and those notes' diagnoses loaded (`addresses`): no read per plan."""
    return aftercare_selectors.plans(**filters).select_related("procedure__assessment").prefetch_related(
        "procedure__assessment__diagnoses", "also_covers__assessment__diagnoses")


def patient_of(plan):
    return plan.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids))


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


def narrative_lines(plan) -> list[str]:
    lines = [f"Aftercare plan after the procedure on {plan.procedure_date.isoformat()}."]
    for entry in plan.days:
        tasks = [task.get("text", "") for task in entry.get("tasks", []) if task.get("text")]
        if tasks:
            lines.append(f"Day {entry.get('day_number')} ({entry.get('date')}): " + " ".join(tasks))
    return lines


def _div(lines: list[str]) -> str:
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'


def to_resource(plan, *, base_url: str | None = None) -> dict[str, Any]:
    notes = [plan.procedure, *plan.also_covers.all()]
    signed = [note for note in notes if note.is_signed]
    addresses: list[dict[str, Any]] = []
    for note in signed:
        references, _bare = procedure_mapper.reasons(note)
        addresses += [ref for ref in references if ref not in addresses]
    lines = narrative_lines(plan)
    finished = plan.last_day < timezone.localdate()
    resource = {
        "resourceType": "CarePlan",
        "id": str(plan.public_id),
        "meta": {"profile": [PROFILE_CARE_PLAN]},
        "text": {"status": "generated", "div": _div(lines)},
        "status": "completed" if finished else "active",
        "intent": "plan",
        "category": [ASSESS_PLAN],
        "title": "Aftercare after trigger point injection",
        "description": lines[0],
        "subject": patient_reference(plan.patient),
        "period": {"start": day(plan.procedure_date), "end": day(plan.last_day)},
        "created": instant(plan.created_at),
        "addresses": addresses,
        "supportingInfo": [{"reference": f"Procedure/{note.public_id}"} for note in signed],
    }
    return prune(resource)
