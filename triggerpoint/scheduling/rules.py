"""Scheduling rules: pure functions that decide whether a booking may stand.

No ORM, no HTTP: the services pass plain values (aware datetimes, ids, the clinic's opening
hours) and get back `Finding`s with a stable rule id and version, so the API, the pages and
the tests say which rule refused a booking and why. Every threshold is in `LIMITS`.

Times are aware datetimes; the clinic's wall clock is its IANA zone (zoneinfo), so a day
on which daylight saving time starts or ends is handled by converting each instant on its
own, never by adding a fixed offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from triggerpoint.core.rules import Finding, Rule, RuleInputError

# Appointment statuses (the model's choices use the same values).
BOOKED, CONFIRMED, ARRIVED, IN_ROOM, DONE, CANCELLED, NO_SHOW = (
    "booked", "confirmed", "arrived", "in_room", "done", "cancelled", "no_show",
)
STATUSES = (BOOKED, CONFIRMED, ARRIVED, IN_ROOM, DONE, CANCELLED, NO_SHOW)


@dataclass(frozen=True)
class Limits:
    """The thresholds of every scheduling rule, in one place."""

    # A booking may start this long before "now": the clerk typing in a walk-in at 09:02 for 09:00.
    past_grace: timedelta = timedelta(minutes=15)
    min_duration: timedelta = timedelta(minutes=1)  # > 0
    max_duration: timedelta = timedelta(hours=8)  # one clinic day; longer is a typing error


LIMITS = Limits()

LIFECYCLE = Rule(
    "SCH-LIFECYCLE", 1, "Appointment lifecycle",
    "An appointment moves booked → confirmed → arrived → in room → done; it may be cancelled until the "
    "patient is in the room, and marked no-show only after its start time and before arrival. Done, "
    "cancelled and no-show are final; only booked or confirmed appointments can be moved.",
)
OVERLAP = Rule(
    "SCH-OVERLAP", 1, "No double booking",
    "A clinician or a room holds one appointment at a time. Times are half-open [start, end): one "
    "appointment may start when the previous one ends. Cancelled and no-show appointments free their time.",
)
HOURS = Rule(
    "SCH-HOURS", 1, "Within opening hours",
    "An appointment starts and ends on one day, within the clinic's opening hours for that weekday, on the "
    "clinic's local clock (its IANA time zone, daylight saving time included).",
)
NOT_PAST = Rule(
    "SCH-NOT-PAST", 1, "Not in the past",
    f"An appointment may not start in the past; a grace of {int(LIMITS.past_grace.total_seconds() // 60)} "
    "minutes lets the front desk book a walk-in who is already at the desk.",
)
DURATION = Rule(
    "SCH-DURATION", 1, "Sensible length",
    f"An appointment ends after it starts and lasts at most {int(LIMITS.max_duration.total_seconds() // 3600)} hours.",
)
RULES = (LIFECYCLE, OVERLAP, HOURS, NOT_PAST, DURATION)

# status -> statuses it may move to (SCH-LIFECYCLE). Booked may go straight to arrived (a patient
# who never confirmed still comes); arrived may be cancelled (sent home unwell), in room may not.
TRANSITIONS: dict[str, frozenset[str]] = {
    BOOKED: frozenset({CONFIRMED, ARRIVED, CANCELLED, NO_SHOW}),
    CONFIRMED: frozenset({ARRIVED, CANCELLED, NO_SHOW}),
    ARRIVED: frozenset({IN_ROOM, CANCELLED}),
    IN_ROOM: frozenset({DONE}),
    DONE: frozenset(),
    CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
}
# Statuses whose time is still held (SCH-OVERLAP); a done appointment did use its slot.
BLOCKING = frozenset({BOOKED, CONFIRMED, ARRIVED, IN_ROOM, DONE})
# Statuses from which an appointment may still be moved to another time.
MOVABLE = frozenset({BOOKED, CONFIRMED})

STATUS_LABELS = {BOOKED: "booked", CONFIRMED: "confirmed", ARRIVED: "arrived", IN_ROOM: "in room", DONE: "done",
                 CANCELLED: "cancelled", NO_SHOW: "no-show"}


def check_transition(current: str, target: str) -> Finding | None:
    """None when `current` → `target` is allowed; otherwise the SCH-LIFECYCLE finding saying why."""
    if current not in TRANSITIONS or target not in TRANSITIONS:
        raise RuleInputError(f"Unknown appointment status: {current if current not in TRANSITIONS else target!r}")
    if target in TRANSITIONS[current]:
        return None
    allowed = ", ".join(STATUS_LABELS[s] for s in STATUSES if s in TRANSITIONS[current]) or "nothing (final)"
    return Finding.of(LIFECYCLE, "refused",
                      f"An appointment that is {STATUS_LABELS[current]} cannot become {STATUS_LABELS[target]}; "
                      f"it can become: {allowed}.", current=current, target=target)


def check_no_show(starts_at: datetime, now: datetime) -> Finding | None:
    """A patient can only fail to come once the appointment has started (SCH-LIFECYCLE)."""
    if now >= starts_at:
        return None
    return Finding.of(LIFECYCLE, "refused", "The appointment has not started yet; mark a no-show only after its "
                      "start time (cancel it if the patient called).", starts_at=starts_at.isoformat())


def check_movable(current: str) -> Finding | None:
    if current in MOVABLE:
        return None
    return Finding.of(LIFECYCLE, "refused",
                      f"An appointment that is {STATUS_LABELS[current]} cannot be moved; only booked or confirmed "
                      "appointments can.", current=current)


@dataclass(frozen=True)
class Slot:
    """An existing appointment as the overlap rule sees it."""

    id: str
    starts_at: datetime
    ends_at: datetime
    clinician_id: int | None
    room_id: int | None
    status: str
    label: str = ""  # how a person names it: "09:00–09:30 with Dr Rivera in Room 1"


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals [start, end): touching ends do not overlap."""
    return a_start < b_end and b_start < a_end


def find_conflicts(starts_at: datetime, ends_at: datetime, clinician_id: int | None, room_id: int | None,
                   existing: Iterable[Slot], ignore_id: str | None = None) -> list[Finding]:
    """SCH-OVERLAP: every held appointment that shares the clinician or the room and overlaps in time."""
    findings = []
    for slot in existing:
        if slot.id == ignore_id or slot.status not in BLOCKING:
            continue
        if not overlaps(starts_at, ends_at, slot.starts_at, slot.ends_at):
            continue
        shared = []
        if clinician_id is not None and slot.clinician_id == clinician_id:
            shared.append("clinician")
        if room_id is not None and slot.room_id == room_id:
            shared.append("room")
        if shared:
            what = " and ".join(shared)
            findings.append(Finding.of(OVERLAP, "conflict",
                                       f"The {what} already has an appointment {slot.label or slot.id}.",
                                       conflicting=slot.id, shared=shared))
    return findings


def check_duration(starts_at: datetime, ends_at: datetime, limits: Limits = LIMITS) -> Finding | None:
    length = ends_at - starts_at
    if length < limits.min_duration:
        return Finding.of(DURATION, "invalid", "The appointment must end after it starts.",
                          minutes=length.total_seconds() / 60)
    if length > limits.max_duration:
        return Finding.of(DURATION, "invalid",
                          f"The appointment lasts {length.total_seconds() / 3600:.1f} hours; at most "
                          f"{limits.max_duration.total_seconds() / 3600:.0f} hours is allowed.",
                          minutes=length.total_seconds() / 60)
    return None


def check_not_past(starts_at: datetime, now: datetime, limits: Limits = LIMITS) -> Finding | None:
    if starts_at >= now - limits.past_grace:
        return None
    return Finding.of(NOT_PAST, "invalid",
                      "The appointment would start in the past; pick a time from now on.",
                      starts_at=starts_at.isoformat(), now=now.isoformat())


# weekday (Monday = 0) -> list of (opens, closes) local wall-clock times; a missing weekday is closed.
OpeningHours = Mapping[int, list[tuple[time, time]]]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_opening_hours(starts_at: datetime, ends_at: datetime, zone: ZoneInfo, hours: OpeningHours) -> Finding | None:
    """SCH-HOURS: start and end on one local day, inside one opening period of that weekday."""
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = local_start.date()
    periods = hours.get(day.weekday(), [])
    when = f"{WEEKDAYS[day.weekday()]} {day.isoformat()} {local_start:%H:%M}–{local_end:%H:%M} ({zone.key})"
    if not periods:
        return Finding.of(HOURS, "invalid", f"The clinic is closed on {WEEKDAYS[day.weekday()]}s ({when}).",
                          local_start=local_start.isoformat())
    end_time = local_end.time() if local_end.date() == day else None
    if local_end.date() == day + timedelta(days=1) and local_end.time() == time(0):
        end_time = time(23, 59, 59, 999999)  # ends exactly at midnight
    for opens, closes in periods:
        if end_time is not None and opens <= local_start.time() and end_time <= closes:
            return None
    open_text = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in periods)
    return Finding.of(HOURS, "invalid",
                      f"Outside opening hours: {when}; the clinic is open {open_text} on {WEEKDAYS[day.weekday()]}s.",
                      local_start=local_start.isoformat(), local_end=local_end.isoformat())


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time on `day` names in `zone`.

    A time skipped when the clocks go forward does not exist and is refused; a time repeated when
    they go back is ambiguous and the first (daylight) occurrence is taken (fold=0), as a person would.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise RuleInputError(f"{day.isoformat()} {at:%H:%M} does not exist in {zone.key} (the clocks go forward).")
    return instant


def check_booking(*, starts_at: datetime, ends_at: datetime, now: datetime, zone: ZoneInfo, hours: OpeningHours,
                  check_past: bool = True, limits: Limits = LIMITS) -> list[Finding]:
    """Every reason (duration, past, opening hours) a booking at this time is invalid; empty when it is fine."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise RuleInputError("Appointment times must carry a time zone (UTC or an offset).")
    findings = [check_duration(starts_at, ends_at, limits)]
    if check_past:
        findings.append(check_not_past(starts_at, now, limits))
    if findings[0] is None:
        findings.append(check_opening_hours(starts_at, ends_at, zone, hours))
    return [f for f in findings if f is not None]
