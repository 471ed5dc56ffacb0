"""Procedure notes on the patient's chart timeline: one entry per note, amendments noted."""

from __future__ import annotations

from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.patients.timeline import TimelineEntry
from triggerpoint.procedures.models import Procedure
from triggerpoint.procedures.presentation import muscle_name


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "procedure.view", patient):
        return []
    found: list[TimelineEntry] = []
    notes = Procedure.objects.filter(patient=patient).prefetch_related("sites", "amendments")
    for procedure in notes:
        sites = list(procedure.sites.all())
        muscles = ", ".join(f"{s.side[0].upper()} {muscle_name(s.muscle)}" for s in sites) or "no sites yet"
        cpt = [line["code"] for line in (procedure.codes or {}).get("cpt", [])]
        summary = muscles + (f" · {' + '.join(cpt)}" if cpt else "")
        amendments = len(procedure.amendments.all())
        status = "Signed" if procedure.is_signed else "Draft"
        if amendments:
            status += f" · amended ×{amendments}"
        at = procedure.performed_at or timezone.make_aware(datetime.combine(procedure.procedure_date, time(12)))
        found.append(
            TimelineEntry(
                at=at,
                kind="procedure",
                title=f"Trigger point {'dry needling' if sites and all(s.technique == 'dry_needling' for s in sites) else 'injection'}"
                f" — {len(sites)} site{'s' if len(sites) != 1 else ''}",
                summary=summary,
                url=reverse("procedures:note", args=[patient.public_id, procedure.public_id]),
                status=status,
            )
        )
    return found


def actions(patient, user):
    """The chart's way to start a procedure note."""
    from triggerpoint.patients.timeline import ChartAction

    if not can(user, "procedure.edit", patient):
        return []
    return [ChartAction("New procedure note", reverse("procedures:new", args=[patient.public_id]), primary=True)]
