"""Channel choice and the too-late rule for reminders (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from triggerpoint.aftercare.delivery import ReminderPolicy, choose_channel, is_too_late, split_late
from triggerpoint.aftercare.plan import Reminder

NOW = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)


def reminder(at: datetime, key: str = "k") -> Reminder:
    return Reminder(key=key, send_at_utc=at, kind="care", text="t", local_date=date(2026, 3, 8), slot="morning")


@pytest.mark.parametrize(
    ("preferred", "email", "phone", "expected"),
    [
        ("email", "a@example.org", "+1555", ("email", "a@example.org", False)),
        ("sms", "a@example.org", "+1555", ("sms", "+1555", False)),
        ("sms", "a@example.org", "", ("email", "a@example.org", True)),
        ("email", "  ", "+1555", ("sms", "+1555", True)),
    ],
)
def test_it_uses_the_preferred_channel_or_falls_back(preferred, email, phone, expected):
    choice = choose_channel(preferred, email, phone)
    assert (choice.channel, choice.address, choice.fallback) == expected


def test_no_address_at_all_means_no_channel():
    assert choose_channel("email", "", "") is None


def test_an_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="preferred channel"):
        choose_channel("pigeon", "a@example.org", "")


def test_a_reminder_exactly_at_the_grace_limit_is_still_sent_and_a_second_later_is_not():
    policy = ReminderPolicy(late_grace=timedelta(hours=2))
    assert not is_too_late(reminder(NOW - timedelta(hours=2)), NOW, policy)
    assert is_too_late(reminder(NOW - timedelta(hours=2, seconds=1)), NOW, policy)
    assert not is_too_late(reminder(NOW + timedelta(days=1)), NOW, policy)


def test_split_keeps_order_and_a_clinic_can_widen_the_grace():
    reminders = [reminder(NOW - timedelta(hours=5), "a"), reminder(NOW, "b"), reminder(NOW - timedelta(hours=3), "c")]
    timely, late = split_late(reminders, NOW)
    assert [r.key for r in timely] == ["b"] and [r.key for r in late] == ["a", "c"]
    timely, late = split_late(reminders, NOW, ReminderPolicy(late_grace=timedelta(hours=6)))
    assert [r.key for r in timely] == ["a", "b", "c"] and late == []


def test_now_must_carry_a_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_too_late(reminder(NOW), NOW.replace(tzinfo=None))
