"""When check-ins are due: local clinic times, late signing, the 14-day report window (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.schedule import (
    DEFAULT_PLAN,
    CheckInPlan,
    CheckInSlot,
    due_times,
    parse_slots,
    report_window_closes,
    report_window_open,
)

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2025, 3, 3)


def test_the_default_plan_asks_on_the_evening_of_day_0_then_days_1_3_and_5():
    assert [(s.day, s.at) for s in DEFAULT_PLAN.slots] == [
        (0, time(18, 0)), (1, time(10, 0)), (3, time(10, 0)), (5, time(10, 0))]


def test_due_times_are_wall_clock_times_in_the_clinic_zone_stored_as_utc():
    planned = due_times(MONDAY, NEW_YORK)
    assert [due for _slot, due in planned] == [
        datetime(2025, 3, 3, 23, 0, tzinfo=UTC),   # 18:00 EST
        datetime(2025, 3, 4, 15, 0, tzinfo=UTC),   # 10:00 EST
        datetime(2025, 3, 6, 15, 0, tzinfo=UTC),
        datetime(2025, 3, 8, 15, 0, tzinfo=UTC),
    ]


def test_a_check_in_after_the_spring_clock_change_keeps_its_local_time():
    # DST starts on Sunday 2025-03-09 in New York: day 5 of a Tuesday procedure is after it.
    planned = dict((slot.day, due) for slot, due in due_times(date(2025, 3, 4), NEW_YORK))
    assert planned[0].astimezone(NEW_YORK).time() == time(18, 0)
    assert planned[5].astimezone(NEW_YORK).time() == time(10, 0)
    assert planned[5] == datetime(2025, 3, 9, 14, 0, tzinfo=UTC)  # EDT is UTC-4


def test_a_slot_already_past_when_the_note_is_signed_is_sent_at_signing_not_skipped():
    signed_at = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)  # 18:30 local, after the 18:00 slot
    planned = due_times(MONDAY, NEW_YORK, not_before=signed_at)
    assert planned[0] == (CheckInSlot(0, time(18, 0)), signed_at)
    assert planned[1][1] == datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def test_when_several_slots_have_passed_only_the_latest_is_sent_once_at_signing():
    next_morning = datetime(2025, 3, 4, 16, 0, tzinfo=UTC)  # 11:00 on day 1: day 0 and day 1 slots have passed
    planned = due_times(MONDAY, NEW_YORK, not_before=next_morning)
    assert planned[0] == (CheckInSlot(1, time(10, 0)), next_morning)
    assert [slot.day for slot, _ in planned] == [1, 3, 5]


def test_a_slot_whose_link_would_already_have_expired_is_dropped():
    exactly_expired = datetime(2025, 3, 5, 23, 0, tzinfo=UTC)
    late_plan = CheckInPlan(slots=(CheckInSlot(0, time(18, 0)), CheckInSlot(5, time(10, 0))))
    assert [s.day for s, _ in due_times(MONDAY, NEW_YORK, late_plan, not_before=exactly_expired)] == [5]
    just_before = exactly_expired - timedelta(seconds=1)
    assert [s.day for s, _ in due_times(MONDAY, NEW_YORK, late_plan, not_before=just_before)] == [0, 5]


def test_a_naive_signing_time_is_refused():
    with pytest.raises(RuleInputError):
        due_times(MONDAY, NEW_YORK, not_before=datetime(2025, 3, 3, 18, 0))


def test_the_report_window_runs_through_day_14_and_closes_at_the_start_of_day_15():
    closes = report_window_closes(MONDAY, NEW_YORK)
    assert closes == datetime(2025, 3, 18, 0, 0, tzinfo=NEW_YORK).astimezone(UTC)
    assert report_window_open(MONDAY, NEW_YORK, closes - timedelta(seconds=1))
    assert not report_window_open(MONDAY, NEW_YORK, closes)
    assert report_window_open(MONDAY, NEW_YORK, datetime(2025, 3, 3, 0, 0, tzinfo=NEW_YORK))
    assert not report_window_open(MONDAY, NEW_YORK, datetime(2025, 3, 2, 23, 59, tzinfo=NEW_YORK))


def test_a_clinic_plan_is_parsed_and_sorted_by_day():
    slots = parse_slots([{"day": 2, "time": "09:30"}, {"day": 0, "time": "19:00"}])
    assert slots == (CheckInSlot(0, time(19, 0)), CheckInSlot(2, time(9, 30)))
    assert CheckInPlan(slots=slots).slots[0].day == 0


def test_a_bad_plan_lists_every_problem():
    with pytest.raises(RuleInputError) as caught:
        parse_slots([{"day": -1, "time": "18:00"}, {"day": 1, "time": "25:00"}, {"day": 2, "time": "10:00", "x": 1},
                     {"day": 2, "time": "11:00"}, "nonsense"])
    problems = " | ".join(caught.value.problems)
    assert "slots[0].day" in problems
    assert "slots[1].time" in problems
    assert "slots[2]: unknown field(s) ['x']" in problems
    assert "more than one check-in on day(s) [2]" in problems
    assert "slots[4]" in problems


def test_an_empty_plan_is_refused():
    with pytest.raises(RuleInputError):
        parse_slots([])
