"""Reminder send times for a plan: "8 a.m. on day 1" is a local clock time whose UTC instant
moves across daylight-saving changes. Pure: no Django, ORM or HTTP.

``plan`` imports this module (and re-exports its names); this module names what it reads of a
plan as protocols rather than importing ``plan``, so the dependency runs one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Protocol

from triggerpoint.core.rules import RuleInputError


class _PlannedReminder(Protocol):
    """What is read of a ``plan.PlannedReminder``."""

    @property
    def id(self) -> str: ...
    @property
    def date(self) -> date: ...
    @property
    def slot(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...


class PlanReminders(Protocol):
    """What is read of a ``plan.AftercarePlan``: its planned reminders."""

    @property
    def reminders(self) -> Sequence[_PlannedReminder]: ...


@dataclass(frozen=True)
class Reminder:
    key: str
    send_at_utc: datetime
    kind: str
    text: str
    reminder_id: str = ""
    local_date: date | None = None
    slot: str = ""


def local_time_to_utc(day: date, clock: time, tz: tzinfo) -> datetime:
    """The UTC instant when the clock in `tz` shows `clock` on `day`.

    Across DST the offset of that *day* is used. A clock time that does not exist
    (inside a spring-forward gap) lands just after the gap, e.g. 02:30 becomes 03:30
    daylight time; a time that occurs twice (fall-back) uses its first occurrence.
    Both follow PEP 495 with ``fold=0``.
    """
    if clock.tzinfo is not None:
        raise ValueError("reminder clock times are local wall times and must be naive")
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def reminder_schedule(
    plan: PlanReminders,
    tz: tzinfo,
    morning: time = time(8, 0),
    evening: time = time(18, 0),
    *,
    plan_key: str,
) -> list[Reminder]:
    """The plan's reminders with their UTC send instants, earliest first.

    `plan_key` is the stored plan's own identifier (e.g. its UUID): a content hash is
    not enough, as two patients with the same procedure date and muscles would collide
    and one of them would lose reminders to the idempotency check. The key of each
    reminder is stable for the same plan, reminder and local date, so regenerating
    the schedule never sends twice.
    """
    if not plan_key or not plan_key.strip():
        raise RuleInputError("plan_key: required (the stored plan's id)")
    clocks = {"morning": morning, "evening": evening}
    reminders = [
        Reminder(
            key=f"aftercare:{plan_key}:{planned.id}:{planned.date.isoformat()}",
            send_at_utc=local_time_to_utc(planned.date, clocks[planned.slot], tz),
            kind=planned.kind,
            text=planned.text,
            reminder_id=planned.id,
            local_date=planned.date,
            slot=planned.slot,
        )
        for planned in plan.reminders
    ]
    return sorted(reminders, key=lambda reminder: (reminder.send_at_utc, reminder.key))

