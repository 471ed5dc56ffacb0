"""Reminders go out at local clock times, whatever the UTC offset of that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from triggerpoint.aftercare.plan import local_time_to_utc, reminder_schedule
from triggerpoint.core.rules import RuleInputError

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def by_id(reminders):
    return {reminder.reminder_id: reminder for reminder in reminders}


def test_day_one_morning_reminder_is_at_eight_daylight_time_on_the_spring_forward_day(make_plan):
    plan = make_plan(procedure_date="2026-03-07")  # day 1 = 2026-03-08, clocks go forward at 02:00
    reminders = by_id(reminder_schedule(plan, NEW_YORK, plan_key="plan-1"))
    day0_evening = reminders["day0-evening-ice-and-warnings"]
    day1_morning = reminders["day1-morning-start-heat-and-stretching"]
    assert day0_evening.send_at_utc == datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # 18:00 EST (UTC-5)
    assert day1_morning.send_at_utc == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT (UTC-4)
    assert day1_morning.send_at_utc.astimezone(NEW_YORK).time() == time(8, 0)


def test_day_one_morning_reminder_is_at_eight_standard_time_on_the_fall_back_day(make_plan):
    plan = make_plan(procedure_date="2026-10-31")  # day 1 = 2026-11-01, clocks go back at 02:00
    reminders = by_id(reminder_schedule(plan, NEW_YORK, plan_key="plan-1"))
    assert reminders["day0-evening-ice-and-warnings"].send_at_utc == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert reminders["day1-morning-start-heat-and-stretching"].send_at_utc == datetime(
        2026, 11, 1, 13, 0, tzinfo=UTC
    )


def test_every_reminder_lands_on_its_local_clock_time_across_a_dst_change(make_plan):
    for procedure in ("2026-03-04", "2026-10-28"):
        plan = make_plan(procedure_date=procedure)
        for reminder in reminder_schedule(plan, NEW_YORK, time(7, 30), time(19, 15), plan_key="p"):
            local = reminder.send_at_utc.astimezone(NEW_YORK)
            assert local.date() == reminder.local_date
            assert local.time() == {"morning": time(7, 30), "evening": time(19, 15)}[reminder.slot]


def test_activity_resume_reminder_is_on_the_evening_of_the_last_restricted_day(make_plan):
    plan = make_plan(procedure_date="2026-01-29")
    reminder = by_id(reminder_schedule(plan, NEW_YORK, plan_key="p"))[
        "activity-restriction-evening-resume-tomorrow"
    ]
    assert reminder.local_date == plan.activity_restriction_until == date(2026, 2, 1)
    assert "tomorrow" in reminder.text


def test_an_evening_reminder_may_fall_on_the_next_utc_day_at_year_end(make_plan):
    plan = make_plan(procedure_date="2026-12-21")  # day 10 = 2026-12-31
    reminder = by_id(reminder_schedule(plan, LOS_ANGELES, plan_key="p"))["day10-evening-keep-stretching"]
    assert reminder.local_date == date(2026, 12, 31)
    assert reminder.send_at_utc == datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # 18:00 PST


def test_a_clock_time_inside_the_spring_gap_is_sent_just_after_it():
    sent = local_time_to_utc(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert sent == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert sent.astimezone(NEW_YORK).time() == time(3, 30)


def test_a_repeated_clock_time_at_fall_back_uses_its_first_occurrence():
    assert local_time_to_utc(date(2026, 11, 1), time(1, 30), NEW_YORK) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_a_clock_time_with_a_zone_is_refused():
    with pytest.raises(ValueError, match="naive"):
        local_time_to_utc(date(2026, 11, 1), time(8, 0, tzinfo=UTC), NEW_YORK)


def test_reminders_are_sorted_and_their_keys_are_unique(make_plan):
    reminders = reminder_schedule(make_plan(physical_therapy_planned=True), NEW_YORK, plan_key="p")
    assert [r.send_at_utc for r in reminders] == sorted(r.send_at_utc for r in reminders)
    assert len({r.key for r in reminders}) == len(reminders)


def test_keys_are_stable_for_the_same_plan_and_differ_between_plans(make_plan):
    first = [r.key for r in reminder_schedule(make_plan(), NEW_YORK, plan_key="plan-a")]
    again = [r.key for r in reminder_schedule(make_plan(language="es"), LOS_ANGELES, plan_key="plan-a")]
    other = [r.key for r in reminder_schedule(make_plan(), NEW_YORK, plan_key="plan-b")]
    assert first == again
    assert set(first).isdisjoint(other)


def test_a_missing_plan_key_is_refused(make_plan):
    with pytest.raises(RuleInputError):
        reminder_schedule(make_plan(), NEW_YORK, plan_key=" ")


def test_conditional_reminders_follow_their_tasks(make_plan):
    with_pt = by_id(reminder_schedule(make_plan(physical_therapy_planned=True), NEW_YORK, plan_key="p"))
    without = by_id(reminder_schedule(make_plan(), NEW_YORK, plan_key="p"))
    assert "day1-morning-book-physical-therapy" in with_pt
    assert "day1-morning-book-physical-therapy" not in without


def test_reminder_text_follows_the_plan_language(make_plan, template):
    reminders = by_id(reminder_schedule(make_plan(language="es"), NEW_YORK, plan_key="p"))
    expected = next(r for r in template.reminders if r.id == "day1-morning-start-heat-and-stretching").text[
        "es"
    ]
    assert reminders["day1-morning-start-heat-and-stretching"].text == expected
