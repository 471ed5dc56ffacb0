"""Chart timeline entries: each aftercare plan, each of its messages with delivery status,
and recent signed procedures that have no plan (with the link to create one).

Reminders are listed one by one with their outbox status (pending, retrying, sent, failed,
cancelled and why), so a clinician sees at a glance whether the patient was reached.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare import services
from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.notifications.models import Notification, Status
from triggerpoint.patients.timeline import TimelineEntry


def _plan_url(plan: AftercarePlan) -> str:
    return reverse("aftercare:plan", args=[plan.patient.public_id, plan.public_id])


def _status(note: Notification) -> str:
    if note.status == Status.PENDING and note.attempts:
        return "retrying"
    return note.status


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "aftercare.view", patient):
        return []
    found: list[TimelineEntry] = []
    plans = list(AftercarePlan.objects.filter(patient=patient).select_related("patient", "clinic"))
    stopped = services.reminders_stopped(patient)
    for plan in plans:
        ticks = plan.checks.filter(done=True).count()
        summary = f"{plan.template_id} v{plan.template_version} ({plan.language}); {ticks} task(s) ticked done"
        summary += f"; messages by {plan.reminder_channel}" if plan.reminder_channel else ""
        summary += f". {plan.reminder_note}" if plan.reminder_note else ""
        found.append(
            TimelineEntry(
                at=plan.created_at,
                kind="aftercare",
                title=f"Aftercare plan for the procedure of {plan.procedure_date:%Y-%m-%d}",
                summary=summary,
                url=_plan_url(plan),
                status="reminders stopped" if stopped else "",
            )
        )
    if can(user, "reminder.view", patient) and plans:
        by_id = {str(plan.public_id): plan for plan in plans}
        notes = Notification.objects.filter(
            patient=patient, related_type=AftercarePlan._meta.label_lower, related_id__in=list(by_id)
        )
        for note in notes:
            plan = by_id[note.related_id]
            is_link = note.kind == services.LINK_KIND
            title = "Aftercare plan link sent to the patient" if is_link else "Aftercare reminder"
            detail = f"{note.channel}, {note.attempts} attempt(s)"
            if note.last_error:
                detail += f" — {note.last_error[:120]}"
            found.append(
                TimelineEntry(
                    at=note.sent_at or note.send_after,
                    kind="reminder",
                    title=title if is_link else f"{title}: {note.body.splitlines()[0][:90]}",
                    summary=detail,
                    url=_plan_url(plan),
                    status=_status(note),
                )
            )
    if can(user, "aftercare.edit", patient):
        from triggerpoint.procedures.models import Procedure

        # Only where a plan would still run: a plan for last season's injection helps nobody.
        still_useful_from = timezone.localdate() - timedelta(days=load_template().last_day)
        without_plan = Procedure.objects.filter(
            patient=patient, status="signed", procedure_date__gte=still_useful_from
        ).exclude(pk__in=AftercarePlan.objects.values("procedure_id"))
        for procedure in without_plan:
            found.append(
                TimelineEntry(
                    at=procedure.signed_at or procedure.created_at,
                    kind="aftercare",
                    title=f"No aftercare plan for the procedure of {procedure.procedure_date:%Y-%m-%d}",
                    summary="Open to review the facts and create the plan with its reminders.",
                    url=reverse("aftercare:create_plan", args=[patient.public_id, procedure.public_id]),
                    status="missing",
                )
            )
    return found
