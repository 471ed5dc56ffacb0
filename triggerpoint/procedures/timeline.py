"""Procedure notes on the patient's chart timeline: one entry per note, amendments noted."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.patients.timeline import ChartAction, TimelineEntry
from triggerpoint.procedures.models import InjectionSite, Procedure
from triggerpoint.procedures.presentation import muscle_name

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {
    "procedures.Procedure": "patient_id",
    "procedures.Amendment": "procedure.patient_id",
    "procedures.GuidanceImage": "procedure.patient_id",
}
# Written only with their note, in its transaction (drafting._replace_children after the note's save;
# signed notes' rows cannot change), so the note's own change renews the chart.
WRITTEN_WITH = {
    "procedures.InjectionSite": "procedures.Procedure",
    "procedures.Injectate": "procedures.Procedure",
}


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "procedure.view", patient):
        return []
    found: list[TimelineEntry] = []
    # Two queries whatever the number of notes: the notes with their amendment count, then every
    # site as plain tuples (a prefetch builds a queryset and a model per note and per site).
    notes = list(Procedure.objects.filter(patient=patient).annotate(amendment_count=Count("amendments")))
    sites_of: dict[int, list[tuple[str, str, str]]] = {}
    if notes:
        for procedure_id, side, muscle, technique in InjectionSite.objects.filter(
            procedure_id__in=[note.pk for note in notes]
        ).order_by("position", "id").values_list("procedure_id", "side", "muscle", "technique"):
            sites_of.setdefault(procedure_id, []).append((side, muscle, technique))
    for procedure in notes:
        sites = sites_of.get(procedure.pk, [])
        muscles = ", ".join(f"{side[0].upper()} {muscle_name(muscle)}" for side, muscle, _ in sites) or "no sites yet"
        cpt = [line["code"] for line in (procedure.codes or {}).get("cpt", [])]
        summary = muscles + (f" · {' + '.join(cpt)}" if cpt else "")
        amendments = procedure.amendment_count
        status = "Signed" if procedure.is_signed else "Draft"
        if amendments:
            status += f" · amended ×{amendments}"
        at = procedure.performed_at or timezone.make_aware(datetime.combine(procedure.procedure_date, time(12)))
        needling = sites and all(technique == "dry_needling" for _, _, technique in sites)
        found.append(
            TimelineEntry(
                at=at,
                kind="procedure",
                title=f"Trigger point {'dry needling' if needling else 'injection'}"
                f" — {len(sites)} site{'s' if len(sites) != 1 else ''}",
                summary=summary,
                url=reverse("procedures:note", args=[patient.public_id, procedure.public_id]),
                status=status,
            )
        )
    return found


def actions(patient, user):
    """The chart's way to start a procedure note."""
    if not can(user, "procedure.edit", patient):
        return []
    return [ChartAction("New procedure note", reverse("procedures:new", args=[patient.public_id]), primary=True)]
