"""The clinic's on-call configuration: who is paged and in which order, and the check-in plan it carries.

`OnCallSchedule` holds the rota (`OnCallSlot`s), the acknowledgement deadline that drives
escalation and the clinic's check-in times; check-ins and alerts read them through here.
`update_oncall` is the one way to change them (one transaction, audited, every problem at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import can, require
from triggerpoint.audit import services as audit
from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup import escalation
from triggerpoint.followup.models import OnCallSchedule, OnCallSlot
from triggerpoint.followup.schedule import DEFAULT_PLAN, CheckInPlan, parse_slots


def schedule_of(clinic) -> OnCallSchedule | None:
    return OnCallSchedule.objects.filter(clinic=clinic).first()


def plan_for(clinic) -> CheckInPlan:
    schedule = schedule_of(clinic)
    return schedule.plan if schedule is not None else DEFAULT_PLAN


def policy_for(clinic) -> escalation.EscalationPolicy:
    schedule = schedule_of(clinic)
    return schedule.policy if schedule is not None else escalation.DEFAULT_POLICY


def on_call_slots(clinic, now: datetime) -> list[OnCallSlot]:
    """The slots covering `now`, in paging order, one per person (their first slot wins)."""
    schedule = schedule_of(clinic)
    if schedule is None:
        return []
    seen: set[int] = set()
    covering = []
    for slot in schedule.slots.select_related("user").filter(user__is_active=True):
        if slot.covers(now) and slot.user_id not in seen:
            seen.add(slot.user_id)
            covering.append(slot)
    return covering


def staff_phone(clinic, user) -> str:
    """The number this clinic pages `user` on (kept on their on-call slots), or ''."""
    return (
        OnCallSlot.objects.filter(schedule__clinic=clinic, user=user).exclude(phone="")
        .values_list("phone", flat=True).first() or ""
    )


def update_oncall(user, clinic, *, acknowledge_within_minutes: int | None = None, checkin_slots=None,
                  rota: list[dict[str, Any]] | None = None) -> OnCallSchedule:
    """Replace the clinic's paging order and/or settings; every problem is listed at once (ValidationError).

    `rota`: ordered `[{"user": <User>, "phone": str, "starts_at": dt | None, "ends_at": dt | None}]`;
    only active staff of this clinic who may acknowledge alerts can be on call.
    """
    require(user, "oncall.manage", clinic)
    problems: dict[str, list[str]] = {}
    if acknowledge_within_minutes is not None and not 1 <= acknowledge_within_minutes <= 240:
        problems.setdefault("acknowledge_within_minutes", []).append("must be from 1 to 240 minutes")
    if checkin_slots is not None and checkin_slots != []:
        try:
            parse_slots(checkin_slots)
        except RuleInputError as exc:
            problems.setdefault("checkin_slots", []).extend(exc.problems)
    for index, entry in enumerate(rota or []):
        person = entry.get("user")
        if person is None or person.clinic_id != clinic.pk or not person.is_active:
            problems.setdefault("rota", []).append(f"rota[{index}]: not an active member of this clinic's staff")
        elif not can(person, "alert.acknowledge"):
            problems.setdefault("rota", []).append(
                f"rota[{index}]: {person.username} cannot acknowledge alerts (physicians and nurses only)")
        starts, ends = entry.get("starts_at"), entry.get("ends_at")
        implausible = [f"rota[{index}].{key} {reason}" for key, value in (("starts_at", starts), ("ends_at", ends))
                       if (reason := plausible.problem("scheduled", value))]
        problems.setdefault("rota", []).extend(implausible) if implausible else None
        if starts and ends and not implausible and ends <= starts:
            problems.setdefault("rota", []).append(f"rota[{index}]: the shift must end after it starts")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        schedule, _ = OnCallSchedule.objects.select_for_update().get_or_create(clinic=clinic)
        if acknowledge_within_minutes is not None:
            schedule.acknowledge_within_minutes = acknowledge_within_minutes
        if checkin_slots is not None:
            schedule.checkin_slots = list(checkin_slots)
        schedule.updated_at, schedule.updated_by = timezone.now(), user
        schedule.save()
        if rota is not None:
            schedule.slots.all().delete()
            for position, entry in enumerate(rota):
                OnCallSlot.objects.create(
                    schedule=schedule, user=entry["user"], position=position, phone=(entry.get("phone") or "").strip(),
                    starts_at=entry.get("starts_at"), ends_at=entry.get("ends_at"),
                )
        audit.record("followup.oncall.updated", clinic=clinic, details={
            "acknowledge_within_minutes": schedule.acknowledge_within_minutes,
            "checkin_slots": schedule.checkin_slots,
            "rota": [s.user.username for s in schedule.slots.select_related("user")],
        })
    return schedule
