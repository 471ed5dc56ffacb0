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

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from triggerpoint.aftercare import plan_pages, services
from triggerpoint.aftercare.models import AftercarePlan, CheckSource
from triggerpoint.core.context import acting_as
from triggerpoint.notifications.models import Notification, Status
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

    now = timezone.now()
    messages = Notification.objects.filter(
        related_type=AftercarePlan._meta.label_lower, related_id__in=[str(p.public_id) for p in plans]
    )
    past = messages.filter(send_after__lte=now).filter(
        Q(status=Status.PENDING) | Q(status=Status.CANCELLED, last_error=services.TOO_LATE_REASON)
    )
    past_ids = list(past.order_by("send_after", "id").values_list("pk", flat=True))
    troubled = ctx.rng.sample(past_ids, k=min(2, len(past_ids)))
    sent_ids = [pk for pk in past_ids if pk not in troubled]
    for pk, send_after in Notification.objects.filter(pk__in=sent_ids).values_list("pk", "send_after"):
        Notification.objects.filter(pk=pk).update(
            status=Status.SENT, attempts=1, sent_at=send_after + timedelta(seconds=ctx.rng.randint(2, 40)), last_error=""
        )
    if troubled:
        Notification.objects.filter(pk=troubled[0]).update(
            status=Status.FAILED, attempts=12, last_error="SMTPRecipientsRefused: 550 mailbox unavailable (demo)"
        )
    if len(troubled) > 1:
        # Retrying: the worker started by scripts/run delivers it at its next attempt.
        Notification.objects.filter(pk=troubled[1]).update(
            status=Status.PENDING,
            attempts=2,
            next_attempt_at=now + timedelta(minutes=5),
            last_error="ConnectionRefusedError: [Errno 111] Connection refused (demo)",
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

    counts = {
        status: Notification.objects.filter(pk__in=messages.values("pk"), status=status).count()
        for status in (Status.SENT, Status.PENDING, Status.FAILED, Status.CANCELLED)
    }
    ctx.notes.append(
        f"aftercare: {len(plans)} plans from signed notes ({by_hand} created by hand); messages "
        f"{counts[Status.SENT]} sent, {counts[Status.PENDING]} pending (1 retrying), {counts[Status.FAILED]} failed, "
        f"{counts[Status.CANCELLED]} cancelled; portal patient ticked {ticked} tasks"
    )
