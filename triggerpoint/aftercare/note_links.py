"""The signed note's page links to the aftercare plan that covers it (core.plugins ``note_links``)."""

from __future__ import annotations

from django.urls import reverse

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare import services
from triggerpoint.procedures.note_links import NoteLink


def links(procedure, user) -> list[NoteLink]:
    if not can(user, "aftercare.view", procedure.patient):
        return []
    plan = services.plan_covering(procedure)
    if plan is None:
        if not can(user, "aftercare.edit", procedure.patient):
            return []
        return [NoteLink(
            label="No aftercare plan",
            url=reverse("aftercare:create_plan", args=[procedure.patient.public_id, procedure.public_id]),
            detail="Review the facts and create the plan with its reminders.",
            status="missing",
        )]
    notes = services.covered_procedures(plan)
    detail = f"{plan.template_id} v{plan.template_version} ({plan.language})"
    if len(notes) > 1:
        detail += f"; one plan for the {len(notes)} notes of {plan.procedure_date:%Y-%m-%d}"
    return [NoteLink(
        label=f"Aftercare plan for {plan.procedure_date:%Y-%m-%d}",
        url=reverse("aftercare:plan", args=[plan.patient.public_id, plan.public_id]),
        detail=detail,
    )]
