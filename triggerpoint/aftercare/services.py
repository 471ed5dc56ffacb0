"""Aftercare services: every stored change an aftercare plan goes through.

- `create_plan_for_procedure` builds the plan for a signed procedure (its sites and
  injectates, the patient's conditions), stores it as built, issues the patient's
  tokenised link and writes the link message and every reminder to the outbox — all in
  the caller's transaction, so a signature never exists without its plan and reminders,
  and re-running it (the signal fires again, a clinician clicks twice) changes nothing.
  One plan per patient and procedure date: a later note of the same day joins the day's
  plan (rebuilt from every note, reminders rescheduled once), see `_extend_plan`.
- `set_task_done` records the patient ticking a task; `stop_reminders` is their opt-out.

Views, the API, the signal receiver and the demo call these; none repeats them. What the
pages show of a stored plan (`plan_view`) is in ``plan_pages``, which reads this module's
task keys and labels; this module never imports it, so a change never depends on a page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from triggerpoint.aftercare.delivery import DEFAULT_POLICY, ReminderPolicy, choose_channel, split_late
from triggerpoint.aftercare.models import AftercarePlan, CheckSource, PlanCoverage, TaskCheck
from triggerpoint.aftercare.plan import AftercarePlan as BuiltPlan
from triggerpoint.aftercare.plan import Reminder, build_plan, parse_plan_request, reminder_schedule
from triggerpoint.aftercare.record_inputs import (
    day_plan_request_for,
    plan_request_for,
)
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications import selectors as outbox_reads
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.choices import Status
from triggerpoint.patients.services import lock_patient
from triggerpoint.procedures.selectors import locked_procedure

logger = logging.getLogger(__name__)

LINK_PURPOSE = "aftercare.plan"
LINK_KIND = "aftercare.plan_link"
UPDATED_KIND = "aftercare.plan_updated"
REMINDER_KIND = "aftercare.reminder"
MESSAGE_KINDS = (LINK_KIND, UPDATED_KIND, REMINDER_KIND)
# Tasks a patient can do and tick off; warnings, expectations and notes are read, not done.
CHECKABLE_KINDS = frozenset({"care", "wound", "stretch", "activity", "follow_up"})
SIDE_LABELS = {"left": gettext_lazy("left"), "right": gettext_lazy("right")}
TOO_LATE_REASON = "not sent: the plan was created after this reminder's time"
NO_LONGER_PLANNED_REASON = "not sent: the plan was rebuilt for another note of the day and no longer has this reminder"


class PlanRefused(RuleInputError):
    """The procedure cannot have a plan (not signed, or its facts do not make a valid plan)."""


# ------------------------------------------------------------------ which plan covers a note
def plan_covering(procedure) -> AftercarePlan | None:
    """The live plan that covers this note: its own, or the plan of its day that it joined."""
    return (
        AftercarePlan.objects.filter(Q(procedure=procedure) | Q(coverage__procedure=procedure))
        .distinct()
        .order_by("created_at", "id")
        .first()
    )


def covered_procedures(plan: AftercarePlan) -> list:
    """The notes a plan was built from: the day's first note, then the ones that joined it, in order."""
    return [plan.procedure, *(row.procedure for row in plan.coverage.select_related("procedure"))]


def without_plan(procedures):
    """`procedures` (a queryset) narrowed to the notes no live plan covers, neither as its own nor as joined."""
    live = AftercarePlan.objects.all()
    return procedures.exclude(pk__in=live.values("procedure_id")).exclude(
        pk__in=PlanCoverage.objects.filter(plan__in=live).values("procedure_id")
    )


# ------------------------------------------------------------------ creating a plan
@transaction.atomic
def create_plan_for_procedure(
    procedure,
    *,
    physical_therapy: bool | None = None,
    policy: ReminderPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> AftercarePlan:
    """The procedure's aftercare plan, created with its link and reminders if it has none yet.

    One plan per patient and procedure date: a note signed when the patient already has a
    plan for that date (a second note for other muscles, a second session) joins that plan,
    which is rebuilt from all the day's notes and its reminders rescheduled once
    (`_extend_plan`), instead of a second plan sending a second series beside the first.

    Idempotent: a procedure that a live plan already covers gets that plan back, untouched.
    Raises `PlanRefused` (a `RuleInputError`, listing every problem) for a draft note or
    facts the generator refuses.
    """
    # Lock the procedure row so two concurrent calls cannot both pass the "no plan yet" check,
    # and the patient's row so two notes of one day signed at once cannot both start a plan.
    procedure = locked_procedure(procedure)
    existing = plan_covering(procedure)
    if existing is not None:
        return existing
    if not procedure.is_signed:
        raise PlanRefused("procedure: only a signed procedure note gets an aftercare plan")
    lock_patient(procedure.patient_id)
    now = now or timezone.now()
    day_plan = (
        AftercarePlan.objects.select_for_update()
        .filter(patient_id=procedure.patient_id, procedure_date=procedure.procedure_date)
        .order_by("created_at", "id")
        .first()
    )
    if day_plan is not None:
        return _extend_plan(day_plan, procedure, physical_therapy=physical_therapy, policy=policy, now=now)
    payload = plan_request_for(procedure, physical_therapy=physical_therapy)
    try:
        built = build_plan(parse_plan_request(payload))
    except RuleInputError as error:
        raise PlanRefused(error.problems) from error
    plan = AftercarePlan.objects.create(
        clinic=procedure.clinic,
        patient=procedure.patient,
        procedure=procedure,
        procedure_date=procedure.procedure_date,
        plan=built.as_dict(),
        inputs=payload,
        template_id=built.template_id,
        template_version=built.template_version,
        language=built.language,
    )
    audit.record(
        "aftercare.plan.created",
        obj=plan,
        details={
            "procedure": str(procedure.public_id),
            "template": f"{built.template_id} v{built.template_version}",
            "language": built.language,
            "conditions": payload["patient"]["conditions"],
            "physical_therapy_planned": payload["physical_therapy_planned"],
        },
    )
    _schedule_messages(plan, built, policy, now)
    return plan


def _extend_plan(
    plan: AftercarePlan, procedure, *, physical_therapy: bool | None, policy: ReminderPolicy, now: datetime
) -> AftercarePlan:
    """Rebuild the day's plan to cover one more note of that day, and reschedule its reminders once.

    The rebuilt plan is the union of every note's facts (`day_plan_request_for`), so each
    warning a note needs is in it. Physical therapy stays planned once any note planned it.
    A refused rebuild leaves the plan as it was and raises `PlanRefused`, as for a new plan:
    the signature stands, and the chart offers to create the plan once the facts are fixed.
    """
    notes = [*covered_procedures(plan), procedure]
    if plan.inputs.get("physical_therapy_planned"):
        physical_therapy = True  # planned for the day already: a later note's form cannot unplan it
    payload = day_plan_request_for(notes, physical_therapy=physical_therapy)
    try:
        built = build_plan(parse_plan_request(payload))
    except RuleInputError as error:
        raise PlanRefused(error.problems) from error
    before = plan.inputs or {}
    changed = plan.plan != built.as_dict()
    plan.plan = built.as_dict()
    plan.inputs = payload
    plan.template_id = built.template_id
    plan.template_version = built.template_version
    plan.language = built.language
    plan.save_versioned(plan.version, fields=["plan", "inputs", "template_id", "template_version", "language"])
    PlanCoverage.objects.create(plan=plan, procedure=procedure)
    old_sites = {(site["muscle"], site["side"]) for site in before.get("sites", [])}
    old_drugs = {row["drug"] for row in before.get("injectates", [])}
    audit.record(
        "aftercare.plan.extended",
        obj=plan,
        details={
            "procedure": str(procedure.public_id),
            "covers": [str(note.public_id) for note in notes],
            "added_sites": [f"{s['muscle']}:{s['side']}" for s in payload["sites"]
                            if (s["muscle"], s["side"]) not in old_sites],
            "added_injectates": [row["drug"] for row in payload["injectates"] if row["drug"] not in old_drugs],
            "conditions": payload["patient"]["conditions"],
            "template": f"{built.template_id} v{built.template_version}",
        },
    )
    _reschedule_reminders(plan, built, policy, now)
    if changed:
        _send_update_message(plan, procedure, policy, now)
    return plan


def _send_update_message(plan: AftercarePlan, procedure, policy: ReminderPolicy, now: datetime) -> None:
    """Tell the patient their plan now covers the day's other injections too, with a fresh link to read it again.

    The first link still opens the rebuilt plan, but a patient who already read it would not know
    that, say, a steroid's warnings were added. One message per joining note (its own key).
    """
    if not plan.reminder_channel:
        return
    patient = plan.patient
    preference = outbox_reads.contact_preference(patient)
    if preference is not None and preference.reminders_opted_out:
        return
    choice = choose_channel(preference.preferred_channel if preference else "email", patient.email, patient.phone)
    if choice is None:
        return
    link, raw_token = outbox.issue_link(patient, LINK_PURPOSE, plan, policy.link_valid_for)
    url = outbox.link_url(reverse("aftercare:link_plan", args=[raw_token]))
    clinic = plan.clinic
    values = {"clinic": clinic.name, "url": url, "name": patient.given_name}
    with translation.override(plan.language):
        if choice.channel == "sms":
            subject = ""
            body = _("%(clinic)s: we updated your aftercare plan to cover all of today's injections. "
                     "Please read it again: %(url)s") % values + " " + _("Emergency: call 911.")
        else:
            subject = _("Your aftercare plan from %(clinic)s was updated") % values
            body = "\n".join([
                _("Hello %(name)s,") % values,
                "",
                _("We updated your aftercare plan so that it covers all of today's injections. "
                  "Please read it again, including the warning signs:"),
                url,
                "",
                _("In an emergency, call 911."),
            ])
    outbox.enqueue(
        clinic=clinic, patient=patient, kind=UPDATED_KIND, channel=choice.channel, to=choice.address,
        subject=subject, body=body, idempotency_key=f"aftercare:{plan.public_id}:plan-updated:{procedure.public_id}",
        send_after=now, related=plan, link=link,
    )


def _reschedule_reminders(plan: AftercarePlan, built: BuiltPlan, policy: ReminderPolicy, now: datetime) -> None:
    """Bring the plan's reminder series in line with the rebuilt plan, once, without a second series.

    A reminder's key is the plan, the reminder and its date, so the rebuilt schedule names the
    same rows as the first: a reminder already sent (or cancelled, or failed) is left alone and
    never sent again; one still waiting gets the rebuilt wording; one the rebuilt plan adds
    (a steroid's, say) is written, or written as missed when its time has passed; one the
    rebuilt plan no longer has is withdrawn while it waits. The plan link already sent opens
    the rebuilt plan, so it is not sent again.
    """
    if not plan.reminder_channel:
        return  # no email or mobile number when the plan was made: there is no series to keep in step
    patient = plan.patient
    preference = outbox_reads.contact_preference(patient)
    choice = choose_channel(preference.preferred_channel if preference else "email", patient.email, patient.phone)
    if choice is None:
        return
    schedule = reminder_schedule(built, plan.clinic.zone, policy.morning, policy.evening, plan_key=str(plan.public_id))
    _timely, late = split_late(schedule, now, policy)
    late_keys = {reminder.key for reminder in late}
    stored = {note.idempotency_key: note for note in reminders_for(plan, kinds=[REMINDER_KIND])}
    added = updated = 0
    with translation.override(plan.language):
        for reminder in schedule:
            subject, body = _reminder_message(plan, reminder, choice.channel)
            note = stored.get(reminder.key)
            if note is None:
                note = outbox.enqueue(
                    clinic=plan.clinic, patient=patient, kind=REMINDER_KIND, channel=choice.channel,
                    to=choice.address, subject=subject, body=body, idempotency_key=reminder.key,
                    send_after=reminder.send_at_utc, related=plan,
                )
                added += 1
                if reminder.key in late_keys:
                    outbox.cancel_waiting([note.pk], TOO_LATE_REASON)
            elif note.status == Status.PENDING and not note.attempts and (note.subject, note.body) != (subject, body):
                updated += outbox.reword_waiting(note, subject=subject, body=body)
    wanted = {reminder.key for reminder in schedule}
    withdrawn = outbox.cancel_waiting([note.pk for key, note in stored.items() if key not in wanted],
                                      NO_LONGER_PLANNED_REASON)
    if preference is not None and preference.reminders_opted_out:
        outbox.cancel_pending(related=plan)
    audit.record(
        "aftercare.reminders.rescheduled",
        obj=plan,
        details={"added": added, "reworded": updated, "withdrawn": withdrawn, "too_late": len(late_keys)},
    )


def _schedule_messages(plan: AftercarePlan, built: BuiltPlan, policy: ReminderPolicy, now: datetime) -> None:
    """Issue the plan link and write the link message plus every reminder to the outbox."""
    patient = plan.patient
    preference = outbox_reads.contact_preference(patient)
    choice = choose_channel(preference.preferred_channel if preference else "email", patient.email, patient.phone)
    if choice is None:
        plan.reminder_note = "No email or mobile number on file: the plan was not sent and no reminders are scheduled."
        plan.save_versioned(plan.version, fields=["reminder_note"])
        audit.record("aftercare.reminders.not_scheduled", obj=plan, details={"reason": "no contact details"})
        return
    plan.reminder_channel = choice.channel
    if choice.fallback:
        plan.reminder_note = f"Preferred channel has no address; sending by {choice.channel}."
    plan.save_versioned(plan.version, fields=["reminder_channel", "reminder_note"])

    link, raw_token = outbox.issue_link(patient, LINK_PURPOSE, plan, policy.link_valid_for)
    url = outbox.link_url(reverse("aftercare:link_plan", args=[raw_token]))
    schedule = reminder_schedule(built, plan.clinic.zone, policy.morning, policy.evening, plan_key=str(plan.public_id))
    _timely, late = split_late(schedule, now, policy)
    late_keys = {reminder.key for reminder in late}
    with translation.override(plan.language):
        subject, body = _link_message(plan, url, choice.channel, policy)
        outbox.enqueue(
            clinic=plan.clinic,
            patient=patient,
            kind=LINK_KIND,
            channel=choice.channel,
            to=choice.address,
            subject=subject,
            body=body,
            idempotency_key=f"aftercare:{plan.public_id}:plan-link",
            send_after=now,
            related=plan,
            link=link,
        )
        for reminder in schedule:
            subject, body = _reminder_message(plan, reminder, choice.channel)
            note = outbox.enqueue(
                clinic=plan.clinic,
                patient=patient,
                kind=REMINDER_KIND,
                channel=choice.channel,
                to=choice.address,
                subject=subject,
                body=body,
                idempotency_key=reminder.key,
                send_after=reminder.send_at_utc,
                related=plan,
            )
            if reminder.key in late_keys:
                # Written, so the chart shows what the patient missed, but never sent.
                outbox.cancel_waiting([note.pk], TOO_LATE_REASON)
    if preference is not None and preference.reminders_opted_out:
        outbox.cancel_pending(related=plan)
    audit.record(
        "aftercare.reminders.scheduled",
        obj=plan,
        details={"channel": choice.channel, "reminders": len(schedule), "too_late": len(late)},
    )


def _link_message(plan: AftercarePlan, url: str, channel: str, policy: ReminderPolicy) -> tuple[str, str]:
    clinic = plan.clinic
    phone = clinic.phone or ""
    if channel == "sms":
        body = _("%(clinic)s: your aftercare plan is ready: %(url)s") % {"clinic": clinic.name, "url": url}
        if phone:
            body += " " + _("Questions? Call %(phone)s.") % {"phone": phone}
        return "", body + " " + _("Emergency: call 911.")
    lines = [
        _("Hello %(name)s,") % {"name": plan.patient.given_name},
        "",
        _("Your aftercare plan from %(clinic)s is ready. It shows what to do each day after your injection, "
          "which warning signs need a call, and lets you tick off each task.") % {"clinic": clinic.name},
        "",
        _("Open your plan (no password needed; the link works for %(days)s days):") % {
            "days": policy.link_valid_for.days
        },
        url,
        "",
    ]
    if phone:
        lines.append(_("Questions? Call %(clinic)s at %(phone)s.") % {"clinic": clinic.name, "phone": phone})
    lines += [
        _("In an emergency, call 911."),
        "",
        _("We will send a few short reminders over the next days. To stop them, open your plan and "
          "choose “Stop reminders”."),
    ]
    return _("Your aftercare plan from %(clinic)s") % {"clinic": clinic.name}, "\n".join(lines)


def _reminder_message(plan: AftercarePlan, reminder: Reminder, channel: str) -> tuple[str, str]:
    clinic = plan.clinic
    if channel == "sms":
        return "", f"{clinic.name}: {reminder.text}"
    body = "\n".join(
        [
            reminder.text,
            "",
            _("Your full plan is in the patient portal and at the link in our first message."),
            _("To stop these reminders, open your plan and choose “Stop reminders”."),
            "",
            clinic.name + (f" · {clinic.phone}" if clinic.phone else ""),
        ]
    )
    return _("Aftercare reminder from %(clinic)s") % {"clinic": clinic.name}, body


def reminders_for(plan: AftercarePlan, kinds: list[str] | None = None):
    """The plan's outbox rows (link message and reminders, or only these kinds), in send order."""
    return outbox_reads.messages_about(AftercarePlan._meta.label_lower, [plan.public_id], kinds=kinds)


# ------------------------------------------------------------------ the patient's actions
def task_key(task: dict[str, Any]) -> str:
    """A task's identity within a day: per-muscle tasks share an id, so the muscle is part of it."""
    return f"{task['id']}:{task['muscle']}" if task.get("muscle") else task["id"]


def find_task(plan: AftercarePlan, day_number: int, key: str) -> dict[str, Any]:
    """The plan's task, or `RuleInputError` when that day has no such checkable task."""
    for day in plan.days:
        if day["day_number"] == day_number:
            for task in day["tasks"]:
                if task_key(task) == key:
                    if task["kind"] not in CHECKABLE_KINDS:
                        raise RuleInputError(f"task {key!r} is information, not something to tick off")
                    return task
            raise RuleInputError(f"day {day_number} has no task {key!r}")
    raise RuleInputError(f"the plan has no day {day_number}")


@transaction.atomic
def set_task_done(plan: AftercarePlan, day_number: int, key: str, done: bool, source: str) -> TaskCheck:
    """Record that the patient did (or un-did) one task on one day of their plan."""
    if source not in CheckSource.values:
        raise ValueError(f"source must be one of {CheckSource.values}")
    find_task(plan, day_number, key)
    check, created = TaskCheck.objects.select_for_update().get_or_create(
        plan=plan,
        day_number=day_number,
        task_key=key,
        defaults={
            "clinic": plan.clinic,
            "patient": plan.patient,
            "done": done,
            "checked_at": timezone.now() if done else None,
            "source": source,
        },
    )
    if not created and check.done != done:
        check.done = done
        check.checked_at = timezone.now() if done else None
        check.source = source
        check.save_versioned(check.version, fields=["done", "checked_at", "source"])
    audit.record(
        "aftercare.task.checked" if done else "aftercare.task.unchecked",
        obj=plan,
        details={"day": day_number, "task": key, "via": source},
    )
    return check


@transaction.atomic
def stop_reminders(plan: AftercarePlan, via: str):
    """The patient's opt-out: pending reminders are cancelled now and none are sent later."""
    preference = outbox.set_reminder_opt_out(plan.patient, True)
    audit.record("aftercare.reminders.stopped", obj=plan, details={"via": via})
    return preference


def reminders_stopped(patient) -> bool:
    return outbox_reads.reminders_opted_out(patient)
