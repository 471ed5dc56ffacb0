"""How a plan reaches the patient: which channel, at which clock times, and what is too late to send.

Decides three things the services would otherwise hide in `if`s:
- the channel: the patient's stated preference when they have an address for it,
  otherwise the other channel, otherwise none (the chart then says so);
- the local clock times of the "morning" and "evening" reminder slots;
- when a reminder is too late to be useful: a note signed the next morning must not
  send "Tonight: ice the sore spots" at 9 a.m., so reminders whose time passed more
  than `late_grace` ago when the plan is created are written to the outbox already
  cancelled (visible on the chart, never sent).

Pure: no Django, ORM or HTTP. Thresholds live in `ReminderPolicy`, overridable per clinic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from triggerpoint.aftercare.plan import Reminder

CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class ReminderPolicy:
    """The delivery thresholds (one table; a clinic passes its own instance to override)."""

    morning: time = time(8, 0)
    evening: time = time(18, 0)
    late_grace: timedelta = timedelta(hours=2)
    link_valid_for: timedelta = timedelta(days=30)


DEFAULT_POLICY = ReminderPolicy()


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    address: str
    fallback: bool  # true when the preferred channel had no address


def choose_channel(preferred: str, email: str, phone: str) -> ChannelChoice | None:
    """The channel and address to use, or None when the patient has neither an email nor a phone."""
    if preferred not in CHANNELS:
        raise ValueError(f"preferred channel must be one of {list(CHANNELS)}, got {preferred!r}")
    addresses = {"email": (email or "").strip(), "sms": (phone or "").strip()}
    if addresses[preferred]:
        return ChannelChoice(preferred, addresses[preferred], fallback=False)
    other = "sms" if preferred == "email" else "email"
    if addresses[other]:
        return ChannelChoice(other, addresses[other], fallback=True)
    return None


def is_too_late(reminder: Reminder, now: datetime, policy: ReminderPolicy = DEFAULT_POLICY) -> bool:
    """True when the reminder's time passed more than the grace period before `now` (both tz-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return reminder.send_at_utc < now - policy.late_grace


def split_late(
    reminders: Iterable[Reminder], now: datetime, policy: ReminderPolicy = DEFAULT_POLICY
) -> tuple[list[Reminder], list[Reminder]]:
    """(reminders still worth sending, reminders too late to send), each in the given order."""
    timely: list[Reminder] = []
    late: list[Reminder] = []
    for reminder in reminders:
        (late if is_too_late(reminder, now, policy) else timely).append(reminder)
    return timely, late
