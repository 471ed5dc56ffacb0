"""When post-procedure check-ins are due, and how long a patient may report a problem.

A clinic's check-in plan is a short list of (day after the procedure, local time) slots;
the default asks on the evening of the procedure day and on days 1, 3 and 5, the days in
which the warning signs that are paged (fever, infection at the site, allergy) show up.
Times are *local to the clinic*: "6 pm" must mean 6 pm where the patient lives, also on the
day clocks change, so due times are built in the clinic's zone and only then turned into
UTC for storage.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from triggerpoint.core.rules import RuleInputError

#: A check-in cannot be planned later than this many days after the procedure.
MAX_CHECKIN_DAY = 30


@dataclass(frozen=True)
class CheckInSlot:
    """One planned check-in: `day` after the procedure (0 = the procedure day) at local time `at`."""

    day: int
    at: time

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day, "time": self.at.strftime("%H:%M")}


@dataclass(frozen=True)
class CheckInPlan:
    """Everything that decides when check-ins go out and how long their links work.

    Defaults: the evening of day 0 (18:00, after the patient is home and the anaesthetic
    has worn off) then 10:00 on days 1, 3 and 5 (office hours, when a page is answered
    fastest); links stay valid 48 hours; a check-in unanswered 12 hours after it was sent is
    "overdue" on the worklist; the patient may report a problem for 14 days (issue 8).
    """

    slots: tuple[CheckInSlot, ...] = (
        CheckInSlot(0, time(18, 0)),
        CheckInSlot(1, time(10, 0)),
        CheckInSlot(3, time(10, 0)),
        CheckInSlot(5, time(10, 0)),
    )
    link_valid_for: timedelta = timedelta(hours=48)
    overdue_after: timedelta = timedelta(hours=12)
    report_window_days: int = 14

    def __post_init__(self) -> None:
        days = [slot.day for slot in self.slots]
        if len(days) != len(set(days)):
            raise ValueError("at most one check-in per day")
        if self.overdue_after > self.link_valid_for:
            raise ValueError("a check-in cannot become overdue after its link has expired")


DEFAULT_PLAN = CheckInPlan()


def parse_slots(raw: object) -> tuple[CheckInSlot, ...]:
    """`[{"day": 0, "time": "18:00"}, ...]` → slots sorted by day; RuleInputError lists every problem."""
    if not isinstance(raw, list) or not raw:
        raise RuleInputError('slots: must be a non-empty list of {"day": int, "time": "HH:MM"}')
    problems: list[str] = []
    slots: list[CheckInSlot] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            problems.append(f'slots[{index}]: must be an object {{"day", "time"}}')
            continue
        unknown = sorted(set(entry) - {"day", "time"})
        if unknown:
            problems.append(f"slots[{index}]: unknown field(s) {unknown}; allowed: ['day', 'time']")
        day, at = entry.get("day"), entry.get("time")
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= MAX_CHECKIN_DAY:
            problems.append(f"slots[{index}].day: must be a whole number from 0 to {MAX_CHECKIN_DAY}, got {day!r}")
            day = None
        parsed_time = None
        if not isinstance(at, str):
            problems.append(f"slots[{index}].time: must be a local time 'HH:MM', got {at!r}")
        else:
            try:
                parsed_time = time.fromisoformat(at)
            except ValueError:
                problems.append(f"slots[{index}].time: {at!r} is not a time (HH:MM, 24-hour)")
        if day is not None and parsed_time is not None:
            slots.append(CheckInSlot(day, parsed_time.replace(second=0, microsecond=0)))
    days = [slot.day for slot in slots]
    duplicates = sorted({d for d in days if days.count(d) > 1})
    if duplicates:
        problems.append(f"slots: more than one check-in on day(s) {duplicates}")
    if problems:
        raise RuleInputError(problems)
    return tuple(sorted(slots, key=lambda slot: slot.day))


def local_datetime(day: date, at: time, zone: tzinfo) -> datetime:
    """`day` at wall-clock `at` in `zone`, as an aware UTC datetime.

    A wall-clock time skipped by a spring-forward gap is moved forward by the gap (fold=0
    semantics of zoneinfo), never dropped.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    # Round-trip through UTC normalises a non-existent local time (the spring-forward gap).
    return local.astimezone(UTC)


def due_times(
    procedure_date: date, zone: tzinfo, plan: CheckInPlan = DEFAULT_PLAN, *, not_before: datetime | None = None
) -> list[tuple[CheckInSlot, datetime]]:
    """The UTC due time of each slot of `plan` for a procedure on `procedure_date`.

    A slot whose time has already passed when the procedure is signed (a note signed
    late in the evening, or the next day) is due at `not_before` instead of being
    skipped: the patient still gets asked, just late. If several slots have passed, only
    the latest is kept — one message asking "how are you now", not two at once. A passed
    slot whose link would already have expired is dropped.
    """
    if not_before is not None and (not_before.tzinfo is None or not_before.utcoffset() is None):
        raise RuleInputError("not_before: must be timezone-aware")
    planned: list[tuple[CheckInSlot, datetime]] = []
    catch_up: tuple[CheckInSlot, datetime] | None = None
    for slot in plan.slots:
        due = local_datetime(procedure_date + timedelta(days=slot.day), slot.at, zone)
        if not_before is not None and due < not_before:
            if due + plan.link_valid_for > not_before:
                catch_up = (slot, not_before.astimezone(UTC))
            continue
        planned.append((slot, due))
    return ([catch_up] if catch_up else []) + planned


def report_window_closes(procedure_date: date, zone: tzinfo, plan: CheckInPlan = DEFAULT_PLAN) -> datetime:
    """End of the last day on which a patient may report a problem (day `report_window_days`, inclusive)."""
    last_day = procedure_date + timedelta(days=plan.report_window_days + 1)
    return local_datetime(last_day, time(0, 0), zone)


def report_window_open(procedure_date: date, zone: tzinfo, now: datetime, plan: CheckInPlan = DEFAULT_PLAN) -> bool:
    """True from the procedure day through day `report_window_days` (local calendar days)."""
    opens = local_datetime(procedure_date, time(0, 0), zone)
    return opens <= now < report_window_closes(procedure_date, zone, plan)


def describe_slots(slots: Iterable[CheckInSlot]) -> str:
    """'day 0 at 18:00, day 1 at 10:00' for settings pages."""
    return ", ".join(f"day {slot.day} at {slot.at.strftime('%H:%M')}" for slot in slots)
