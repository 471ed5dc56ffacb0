"""Demo aftercare: the plans the signing receiver made for the demo's signed notes, with a
believable message history.

The demo signs every note "now", even for sessions days ago, so the receiver correctly
writes the reminders whose time has passed as cancelled ("too late"). A real clinic that
signed on the day would have sent them; the demo rewrites that history (messages whose
time has passed: sent; one that gave up, one still retrying) so the chart, the worklist
and the plan pages show every state. Future reminders stay pending for the worker.
The portal patient has ticked some of the tasks of past days.
"""

from __future__ import annotations

from django.utils import timezone

from triggerpoint.aftercare import plan_pages, services
from triggerpoint.aftercare.models import AftercarePlan, CheckSource
from triggerpoint.core.context import acting_as
from triggerpoint.notifications import demo_history
from triggerpoint.notifications.choices import Status
from triggerpoint.procedures.selectors import signed_procedures


def extend(ctx) -> None:
    clinics = ctx.clinics
    missing = services.without_plan(signed_procedures(clinic__in=clinics))
    by_hand = 0
    with acting_as(ctx.staff["nurse.okafor"]):
        for procedure in missing:  # only if the receiver did not run (it normally has)
            try:
                services.create_plan_for_procedure(procedure)
                by_hand += 1
            except services.PlanRefused:
                continue
    plans = list(AftercarePlan.objects.filter(clinic__in=clinics).select_related("patient", "clinic"))
    if not plans:
        ctx.notes.append("aftercare: no signed procedures, so no plans")
        return

    counts = demo_history.rewrite_past(
        AftercarePlan._meta.label_lower, [p.public_id for p in plans], now=timezone.now(), rng=ctx.rng,
        too_late_reason=services.TOO_LATE_REASON,
    )

    ticked = 0
    portal_plans = [p for p in plans if ctx.portal_patient is not None and p.patient_id == ctx.portal_patient.pk]
    with acting_as(None):
        for plan in portal_plans:
            view = plan_pages.plan_view(plan)
            for day in view.days:
                if not day.is_past:
                    continue
                for task in day.to_do:
                    if ctx.rng.random() < 0.75:
                        services.set_task_done(plan, day.number, task.key, True, CheckSource.PORTAL)
                        ticked += 1

    ctx.notes.append(
        f"aftercare: {len(plans)} plans from signed notes ({by_hand} created by hand); messages "
        f"{counts[Status.SENT]} sent, {counts[Status.PENDING]} pending (1 retrying), {counts[Status.FAILED]} failed, "
        f"{counts[Status.CANCELLED]} cancelled; portal patient ticked {ticked} tasks"
    )
