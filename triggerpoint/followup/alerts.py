"""Alerts: raised by an emergency/urgent check-in, paged to the on-call rota, escalated until acknowledged, resolved.

Each change runs in one transaction and writes its audit event (`followup.alert.<verb>`);
pages go through the outbox in the same transaction. Escalation is claimed with conditional
UPDATEs, so the deadline task and the sweep racing each other escalate once.

The deadline task (`followup.tasks.escalate_alert_when_due`) calls `escalate_alert`, and each
page schedules that task again: a loop between this module and the tasks module. It runs one
way in the imports: tasks imports this module, and this module is handed the enqueue function
at start-up (`FollowupConfig.ready` calls `provide_escalation_scheduler`). A port rather than a
signal, because an alert whose escalation was never scheduled must fail loudly
(`ImproperlyConfigured`), not wait quietly for the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core.changes import records_changed
from triggerpoint.followup import escalation
from triggerpoint.followup.models import PAGED_DISPOSITIONS, Alert, AlertStatus, CheckIn
from triggerpoint.followup.oncall import on_call_slots, policy_for, staff_phone
from triggerpoint.notifications.services import enqueue, link_url

log = logging.getLogger(__name__)

PAGE_KIND = "followup.page"


class AlertStateError(Exception):
    """The alert is not in a state that allows this (e.g. acknowledged twice); the API answers 409."""


_escalation_scheduler: Callable[[int, datetime], None] | None = None


def provide_escalation_scheduler(schedule: Callable[[int, datetime], None]) -> None:
    """Called once by `FollowupConfig.ready` with `followup.tasks.schedule_escalation_task`."""
    global _escalation_scheduler  # noqa: PLW0603 - the one port, set at start-up
    _escalation_scheduler = schedule


def schedule_escalation_task(alert_id: int, deadline: datetime) -> None:
    """Queue the escalation check at the alert's deadline (the sweep catches a lost task)."""
    if _escalation_scheduler is None:
        raise ImproperlyConfigured("followup.alerts: no escalation scheduler (FollowupConfig.ready provides it)")
    _escalation_scheduler(alert_id, deadline)


def raise_alert(checkin: CheckIn, now: datetime | None = None) -> Alert:
    """Create the alert for an emergency/urgent check-in and page the first person on call."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = Alert.all_objects.filter(checkin=checkin).first()
        if existing is not None:
            return existing
        alert = Alert.objects.create(
            clinic=checkin.clinic, checkin=checkin, patient=checkin.patient, procedure=checkin.procedure,
            disposition=checkin.disposition, raised_at=now,
        )
        audit.record("followup.alert.raised", obj=alert, patient=alert.patient,
                     details={"disposition": alert.disposition, "checkin": str(checkin.public_id)})
        _page(alert, level=0, now=now)
    return alert


def _page(alert: Alert, *, level: int, now: datetime) -> list[dict[str, Any]]:
    """Page everyone due at `level`, log it on the alert, set the next deadline, schedule the escalation task."""
    clinic = alert.clinic
    slots = on_call_slots(clinic, now)
    phones = {slot.user_id: slot.phone for slot in slots}
    people = {slot.user_id: slot.user for slot in slots}
    physician = alert.procedure.performed_by
    people.setdefault(physician.pk, physician)
    targets = escalation.targets_for_level(level, [s.user_id for s in slots], physician.pk)
    entries = []
    for target in targets:
        user = people[target.person]
        channels = []
        phone = phones.get(user.pk) or staff_phone(clinic, user)
        for channel, address in (("sms", phone), ("email", user.email)):
            if not address:
                continue
            enqueue(
                clinic=clinic, kind=PAGE_KIND, channel=channel, to=address, recipient_user=user,
                subject=_page_subject(alert, level), body=_page_body(alert, level, user),
                idempotency_key=f"followup.page:{alert.public_id}:{level}:{user.pk}:{channel}",
                related=alert,
            )
            channels.append(channel)
        entries.append({
            "level": level, "user": user.username, "name": user.get_full_name() or user.username,
            "reason": target.reason, "channels": channels, "at": now.isoformat(),
        })
        if not channels:
            log.warning("followup alert %s: %s has no e-mail or phone to page", alert.public_id, user.username)
    deadline = escalation.next_deadline(now, policy_for(clinic))
    Alert.objects.filter(pk=alert.pk).update(
        page_log=list(alert.page_log) + entries, next_escalation_at=deadline, escalation_level=level,
    )
    alert.page_log = list(alert.page_log) + entries
    records_changed(Alert, [alert.patient_id])
    alert.next_escalation_at, alert.escalation_level = deadline, level
    audit.record("followup.alert.paged", obj=alert, patient=alert.patient,
                 details={"level": level, "paged": [(e["user"], e["reason"], e["channels"]) for e in entries]})
    transaction.on_commit(lambda: schedule_escalation_task(alert.pk, deadline))
    return entries


def _reasons_line(alert: Alert) -> str:
    reasons = alert.checkin.triage.get("reasons", [])
    paged = [r["message"] for r in reasons if r.get("severity") in PAGED_DISPOSITIONS]
    return " ".join(paged[:2]) or alert.get_disposition_display()


def _page_subject(alert: Alert, level: int) -> str:
    prefix = "ESCALATED " if level else ""
    return f"{prefix}{alert.get_disposition_display().upper()} follow-up alert: {alert.clinic.name}"


def _page_body(alert: Alert, level: int, user) -> str:
    patient = alert.patient
    url = link_url(reverse("followup:alert", args=[patient.public_id, alert.public_id]))
    procedure = alert.procedure
    day = (timezone.localtime(alert.raised_at, alert.clinic.zone).date() - procedure.procedure_date).days
    lines = [
        f"{alert.get_disposition_display().upper()} check-in, {alert.clinic.name}.",
        # SMS and email are not secure channels: initials only (minimum necessary); the
        # linked alert page, behind sign-in and audit, shows who it is and how to reach them.
        f"Patient {patient.given_name[:1]}.{patient.family_name[:1]}., day {day} after trigger point injections.",
        _reasons_line(alert),
    ]
    if level:
        lines.append(f"Not acknowledged: escalation level {level}.")
    lines.append(f"Acknowledge and call the patient: {url}")
    return "\n".join(lines)


def escalate_alert(alert_id: int, now: datetime | None = None) -> Alert | None:
    """Escalate one alert if it is still open and past its deadline; otherwise do nothing.

    The level is claimed with a conditional UPDATE, so the deadline task and the sweep
    racing each other escalate once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_related("clinic", "patient", "procedure__performed_by", "checkin").filter(
            pk=alert_id).first()
        if alert is None or alert.status != AlertStatus.OPEN or not escalation.is_overdue(alert.next_escalation_at, now):
            return None
        level = alert.escalation_level + 1
        claimed = Alert.objects.filter(
            pk=alert.pk, status=AlertStatus.OPEN, escalation_level=alert.escalation_level,
            next_escalation_at__lte=now,
        ).update(escalation_level=level, version=F("version") + 1, updated_at=now)
        if not claimed:
            return None
        audit.record("followup.alert.escalated", obj=alert, patient=alert.patient,
                     details={"level": level, "deadline_was": alert.next_escalation_at.isoformat()})
        _page(alert, level=level, now=now)
    return alert


def escalate_overdue_alerts(now: datetime | None = None) -> list[Alert]:
    """Escalate every open alert whose acknowledgement deadline has passed (the sweep)."""
    now = now or timezone.now()
    due = Alert.objects.filter(status=AlertStatus.OPEN, next_escalation_at__lte=now).values_list("pk", flat=True)
    escalated = []
    for pk in list(due):
        alert = escalate_alert(pk, now)
        if alert is not None:
            escalated.append(alert)
    return escalated


def acknowledge_alert(user, alert: Alert, now: datetime | None = None, *, via: str = "worklist") -> Alert:
    """The clinician has seen the alert and is handling it: escalation stops."""
    require(user, "alert.acknowledge", alert)
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user, next_escalation_at=None,
            version=F("version") + 1, updated_at=now, updated_by=user,
        )
        if not claimed:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        alert.refresh_from_db()
        records_changed(Alert, [alert.patient_id])
        audit.record("followup.alert.acknowledged", obj=alert, patient=alert.patient,
                     details={"minutes_after_raised": round((now - alert.raised_at).total_seconds() / 60, 1),
                              "escalation_level": alert.escalation_level, "via": via})
    return alert


def resolve_alert(user, alert: Alert, note: str, now: datetime | None = None) -> Alert:
    """Close the alert with what was done; an open alert is acknowledged by the same act."""
    require(user, "alert.resolve", alert)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Write what was done (the resolution note is required)."]})
    now = now or timezone.now()
    with transaction.atomic():
        current = Alert.objects.filter(pk=alert.pk).values_list("status", flat=True).first()
        if current == AlertStatus.RESOLVED:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        updates: dict[str, Any] = dict(
            status=AlertStatus.RESOLVED, resolved_at=now, resolved_by=user, resolution_note=note,
            next_escalation_at=None, version=F("version") + 1, updated_at=now, updated_by=user,
        )
        if current == AlertStatus.OPEN:
            updates.update(acknowledged_at=now, acknowledged_by=user)
        claimed = Alert.objects.filter(pk=alert.pk, status=current).update(**updates)
        if not claimed:
            alert.refresh_from_db()
            raise AlertStateError(_state_message(alert))
        alert.refresh_from_db()
        CheckIn.objects.filter(pk=alert.checkin_id, reviewed_at__isnull=True).update(reviewed_at=now, reviewed_by=user)
        records_changed(Alert, [alert.patient_id])
        audit.record("followup.alert.resolved", obj=alert, patient=alert.patient,
                     details={"acknowledged_by_resolving": current == AlertStatus.OPEN, "note_length": len(note)})
    return alert


def _state_message(alert: Alert) -> str:
    if alert.status == AlertStatus.RESOLVED:
        who = alert.resolved_by.get_full_name() or alert.resolved_by.username if alert.resolved_by else "someone"
        return f"This alert was already resolved by {who}."
    if alert.status == AlertStatus.ACKNOWLEDGED:
        who = alert.acknowledged_by.get_full_name() or alert.acknowledged_by.username if alert.acknowledged_by else "someone"
        return f"This alert was already acknowledged by {who}."
    return "This alert is still open."
