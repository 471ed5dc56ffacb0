"""Chart timeline entries: each aftercare plan, its messages' delivery status, and recent
signed procedures that have no plan (with the link to create one).

Messages are summarised per plan by outbox status (sent, pending, retrying, failed,
cancelled), and every message that is failing is listed on its own with the error, so a
clinician sees at a glance whether the patient was reached; the plan page lists them all.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare import services
from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.notifications import selectors as outbox_reads
from triggerpoint.notifications.choices import Status
from triggerpoint.patients.timeline import TimelineEntry
from triggerpoint.procedures.selectors import signed_procedures

# The rows these entries are built from, and their path to the patient (patients.timeline's cache).
CHANGED_BY = {
    "aftercare.AftercarePlan": "patient_id",
    "aftercare.TaskCheck": "patient_id",
    "aftercare.PlanCoverage": "plan.patient_id",
    "notifications.Notification": "patient_id",  # the plan's messages; delivery states come by core.changes
    "notifications.ContactPreference": "patient_id",  # "reminders stopped"
    "procedures.Procedure": "patient_id",  # "no aftercare plan for the procedure of …"
}


def _plan_url(patient, plan: AftercarePlan) -> str:
    return reverse("aftercare:plan", args=[patient.public_id, plan.public_id])


def _status(note) -> str:
    if note.status == Status.PENDING and note.attempts:
        return "retrying"
    return note.status


def entries(patient, user) -> list[TimelineEntry]:
    if not can(user, "aftercare.view", patient):
        return []
    found: list[TimelineEntry] = []
    # One query for the plans with their ticked tasks counted (not a count query per plan).
    plans = list(AftercarePlan.objects.filter(patient=patient).annotate(
        ticks=Count("checks", filter=Q(checks__done=True, checks__deleted_at__isnull=True))
    ))
    stopped = services.reminders_stopped(patient) if plans else False
    for plan in plans:
        ticks = plan.ticks
        summary = f"{plan.template_id} v{plan.template_version} ({plan.language}); {ticks} task(s) ticked done"
        summary += f"; messages by {plan.reminder_channel}" if plan.reminder_channel else ""
        summary += f". {plan.reminder_note}" if plan.reminder_note else ""
        found.append(
            TimelineEntry(
                at=plan.created_at,
                kind="aftercare",
                title=f"Aftercare plan for the procedure of {plan.procedure_date:%Y-%m-%d}",
                summary=summary,
                url=_plan_url(patient, plan),
                status="reminders stopped" if stopped else "",
            )
        )
    if can(user, "reminder.view", patient) and plans:
        by_id = {str(plan.public_id): plan for plan in plans}
        notes = outbox_reads.messages_about(AftercarePlan._meta.label_lower, list(by_id), patient=patient).only("related_id", "kind", "status", "attempts", "channel", "last_error", "sent_at", "send_after", "body")
        counts: dict[str, dict[str, int]] = {}
        for note in notes:
            plan = by_id[note.related_id]
            status = _status(note)
            counts.setdefault(note.related_id, {})[status] = counts.setdefault(note.related_id, {}).get(status, 0) + 1
            if status not in {"failed", "retrying"}:
                continue  # delivered, waiting or cancelled messages are summarised below
            titles = {services.LINK_KIND: "Aftercare plan link", services.UPDATED_KIND: "Aftercare plan update"}
            title = titles.get(note.kind) or f"Aftercare reminder: {note.body.splitlines()[0][:90]}"
            detail = f"{note.channel}, {note.attempts} attempt(s)"
            if note.last_error:
                detail += f" — {note.last_error[:120]}"
            found.append(TimelineEntry(at=note.sent_at or note.send_after, kind="reminder", title=title,
                                       summary=detail, url=_plan_url(patient, plan), status=status))
        # One line per plan says whether the patient is being reached; the plan page lists every message.
        for plan_id, by_status in counts.items():
            plan = by_id[plan_id]
            order = ("sent", "pending", "retrying", "failed", "cancelled", "withdrawn")
            parts = [f"{by_status[s]} {s}" for s in order if by_status.get(s)]
            worst = next((s for s in ("failed", "retrying", "withdrawn", "cancelled", "pending", "sent") if by_status.get(s)), "")
            found.append(TimelineEntry(at=plan.created_at, kind="reminder",
                                       title=f"Aftercare messages for the procedure of {plan.procedure_date:%Y-%m-%d}",
                                       summary=", ".join(parts), url=_plan_url(patient, plan), status=worst))
    if can(user, "aftercare.edit", patient):
        # Only where a plan would still run: a plan for last season's injection helps nobody.
        still_useful_from = timezone.localdate() - timedelta(days=load_template().last_day)
        missing = services.without_plan(signed_procedures(patient=patient, procedure_date__gte=still_useful_from))
        for procedure in missing:
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
