"""Demo billing: notes signed more than a week ago are billed in weekly batches by each clinic's front desk;
the last week's notes wait in the hand-off list, as in a clinic that bills on Fridays."""

from __future__ import annotations

from datetime import timedelta

from triggerpoint.billing import services
from triggerpoint.billing.claims import claim_of
from triggerpoint.core.context import acting_as
from triggerpoint.procedures.selectors import signed_procedures


def extend(ctx) -> None:
    cutoff = ctx.today - timedelta(days=7)
    for clinic in ctx.clinics:
        desk = next((u for u in ctx.staff.values() if u.clinic_id == clinic.pk and "front_desk" in u.roles), None)
        if desk is None:
            continue
        by_week: dict[str, list[str]] = {}
        for note in signed_procedures(clinic=clinic, procedure_date__lte=cutoff).select_related(
                "patient", "performed_by"):
            if claim_of(note).problem:
                continue  # left in the list, with the reason shown
            week = note.procedure_date - timedelta(days=note.procedure_date.weekday())
            by_week.setdefault(week.isoformat(), []).append(str(note.public_id))
        with acting_as(desk):
            for week, ids in sorted(by_week.items()):
                services.mark_billed(desk, ids, batch=f"demo-{week}")
        ctx.notes.append(f"billing: {sum(len(ids) for ids in by_week.values())} notes billed at {clinic.name}")
