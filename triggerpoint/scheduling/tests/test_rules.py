"""Scheduling rules at both sides of every boundary (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.scheduling import rules

NY = ZoneInfo("America/New_York")
WEEKDAY_HOURS = {d: [(time(9), time(17))] for d in range(5)}  # Mon–Fri 09:00–17:00, weekends closed


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- SCH-LIFECYCLE
@pytest.mark.parametrize(("current", "target"), [
    ("booked", "confirmed"), ("booked", "arrived"), ("booked", "cancelled"), ("booked", "no_show"),
    ("confirmed", "arrived"), ("confirmed", "cancelled"), ("confirmed", "no_show"),
    ("arrived", "in_room"), ("arrived", "cancelled"), ("in_room", "done"),
])
def test_allowed_steps(current, target):
    assert rules.check_transition(current, target) is None


@pytest.mark.parametrize(("current", "target"), [
    ("booked", "in_room"), ("booked", "done"), ("confirmed", "done"), ("arrived", "no_show"),
    ("in_room", "cancelled"), ("done", "cancelled"), ("cancelled", "booked"), ("no_show", "arrived"),
    ("arrived", "booked"),
])
def test_refused_steps_name_the_rule_and_what_is_possible(current, target):
    finding = rules.check_transition(current, target)
    assert finding.rule == "SCH-LIFECYCLE" and finding.version == 1
    assert rules.STATUS_LABELS[current] in finding.message
    if rules.TRANSITIONS[current]:
        assert all(rules.STATUS_LABELS[s] in finding.message for s in rules.TRANSITIONS[current])
    else:
        assert "final" in finding.message


def test_every_status_has_a_row_and_final_states_are_final():
    assert set(rules.TRANSITIONS) == set(rules.STATUSES)
    for final in ("done", "cancelled", "no_show"):
        assert rules.TRANSITIONS[final] == frozenset()


def test_unknown_status_is_an_input_error():
    with pytest.raises(RuleInputError):
        rules.check_transition("booked", "teleported")


def test_movable_only_before_arrival():
    assert rules.check_movable("booked") is None and rules.check_movable("confirmed") is None
    assert rules.check_movable("arrived").rule == "SCH-LIFECYCLE"


def test_no_show_only_from_the_start_time():
    start = utc(2026, 12, 7, 15, 0)
    assert rules.check_no_show(start, start) is None
    assert rules.check_no_show(start, start - timedelta(seconds=1)).rule == "SCH-LIFECYCLE"


# ---------------------------------------------------------------- SCH-OVERLAP
def slot(start, end, clinician=1, room=None, status="booked", id="x"):
    return rules.Slot(id=id, starts_at=start, ends_at=end, clinician_id=clinician, room_id=room, status=status,
                      label=f"{start:%H:%M}")


def test_half_open_intervals_touching_ends_do_not_overlap():
    nine, half, ten = utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30), utc(2026, 12, 7, 15)
    existing = [slot(nine, half)]
    assert rules.find_conflicts(half, ten, 1, None, existing) == []  # starts exactly when the other ends
    assert rules.find_conflicts(nine - timedelta(minutes=30), nine, 1, None, existing) == []  # ends when it starts
    one_minute_in = rules.find_conflicts(half - timedelta(minutes=1), ten, 1, None, existing)
    assert [f.rule for f in one_minute_in] == ["SCH-OVERLAP"]
    assert rules.find_conflicts(nine, nine + timedelta(minutes=1), 1, None, existing)


def test_clinician_and_room_are_each_a_resource():
    nine, half = utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30)
    existing = [slot(nine, half, clinician=1, room=7, id="A")]
    assert rules.find_conflicts(nine, half, 2, 8, existing) == []  # other clinician, other room
    (room_clash,) = rules.find_conflicts(nine, half, 2, 7, existing)
    assert room_clash.data["shared"] == ["room"] and room_clash.data["conflicting"] == "A"
    (both,) = rules.find_conflicts(nine, half, 1, 7, existing)
    assert both.data["shared"] == ["clinician", "room"]
    assert "clinician and room" in both.message and "14:00" in both.message


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_and_no_show_free_their_time(status):
    nine, half = utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30)
    assert rules.find_conflicts(nine, half, 1, None, [slot(nine, half, status=status)]) == []


@pytest.mark.parametrize("status", ["booked", "confirmed", "arrived", "in_room", "done"])
def test_every_other_status_holds_its_time(status):
    nine, half = utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30)
    assert rules.find_conflicts(nine, half, 1, None, [slot(nine, half, status=status)])


def test_an_appointment_does_not_conflict_with_itself_when_moved():
    nine, half = utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30)
    assert rules.find_conflicts(nine, half, 1, None, [slot(nine, half, id="me")], ignore_id="me") == []


# ---------------------------------------------------------------- SCH-DURATION
def test_duration_boundaries():
    start = utc(2026, 12, 7, 14)
    assert rules.check_duration(start, start).rule == "SCH-DURATION"  # zero length
    assert rules.check_duration(start, start - timedelta(minutes=5)).rule == "SCH-DURATION"
    assert rules.check_duration(start, start + rules.LIMITS.min_duration) is None
    assert rules.check_duration(start, start + rules.LIMITS.max_duration) is None
    too_long = rules.check_duration(start, start + rules.LIMITS.max_duration + timedelta(minutes=1))
    assert too_long.rule == "SCH-DURATION" and "8 hours" in too_long.message


# ---------------------------------------------------------------- SCH-NOT-PAST
def test_past_boundary_with_grace():
    now = utc(2026, 12, 7, 15)
    grace = rules.LIMITS.past_grace
    assert rules.check_not_past(now - grace, now) is None
    assert rules.check_not_past(now + timedelta(days=1), now) is None
    late = rules.check_not_past(now - grace - timedelta(seconds=1), now)
    assert late.rule == "SCH-NOT-PAST" and "past" in late.message


# ---------------------------------------------------------------- SCH-HOURS (clinic's local clock)
def test_opening_hours_boundaries_in_winter():
    # Monday 2026-12-07: New York is UTC-5, so 09:00 local is 14:00 UTC and 17:00 local is 22:00 UTC.
    assert rules.check_opening_hours(utc(2026, 12, 7, 14), utc(2026, 12, 7, 14, 30), NY, WEEKDAY_HOURS) is None
    assert rules.check_opening_hours(utc(2026, 12, 7, 21, 30), utc(2026, 12, 7, 22), NY, WEEKDAY_HOURS) is None
    early = rules.check_opening_hours(utc(2026, 12, 7, 13, 59), utc(2026, 12, 7, 14, 29), NY, WEEKDAY_HOURS)
    assert early.rule == "SCH-HOURS" and "08:59" in early.message and "09:00–17:00" in early.message
    late = rules.check_opening_hours(utc(2026, 12, 7, 21, 31), utc(2026, 12, 7, 22, 1), NY, WEEKDAY_HOURS)
    assert late.rule == "SCH-HOURS"


def test_closed_weekday_says_so():
    saturday = rules.check_opening_hours(utc(2026, 12, 5, 15), utc(2026, 12, 5, 15, 30), NY, WEEKDAY_HOURS)
    assert saturday.rule == "SCH-HOURS" and "closed on Saturdays" in saturday.message


def test_spring_forward_day_uses_the_new_offset():
    # Sunday 2026-03-08 the clocks go forward at 02:00; Monday 03-09 is the first weekday on EDT (UTC-4).
    monday_edt = {0: [(time(9), time(17))]}
    assert rules.check_opening_hours(utc(2026, 3, 9, 13), utc(2026, 3, 9, 13, 30), NY, monday_edt) is None
    # The same UTC hour a week earlier (EST, UTC-5) is 08:00 local: before opening.
    assert rules.check_opening_hours(utc(2026, 3, 2, 13), utc(2026, 3, 2, 13, 30), NY, monday_edt).rule == "SCH-HOURS"


def test_dst_change_day_itself_is_judged_on_the_local_clock():
    sunday = {6: [(time(1), time(4))]}  # a clinic open 01:00–04:00 on Sundays, across the 02:00 jump
    # 01:30 EST (06:30 UTC) to 03:30 EDT (07:30 UTC): one real hour, inside 01:00–04:00 local.
    assert rules.check_opening_hours(utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30), NY, sunday) is None
    # 03:30 EDT to 04:30 EDT ends after closing.
    assert rules.check_opening_hours(utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 30), NY, sunday).rule == "SCH-HOURS"
    # Autumn: on 2026-11-01 01:30 happens twice; 05:30 UTC (EDT) and 06:30 UTC (EST) are both 01:30 local.
    autumn = {6: [(time(1), time(2))]}
    assert rules.check_opening_hours(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 45), NY, autumn) is None
    assert rules.check_opening_hours(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 45), NY, autumn) is None


def test_a_booking_may_not_run_past_midnight():
    always = {d: [(time(0), time(23, 59, 59))] for d in range(7)}
    finding = rules.check_opening_hours(utc(2026, 12, 8, 4, 30), utc(2026, 12, 8, 5, 30), NY, always)
    assert finding.rule == "SCH-HOURS"  # 23:30–00:30 local


def test_local_to_utc_is_dst_correct_and_refuses_skipped_times():
    assert rules.local_to_utc(date(2026, 3, 7), time(9), NY) == utc(2026, 3, 7, 14)
    assert rules.local_to_utc(date(2026, 3, 9), time(9), NY) == utc(2026, 3, 9, 13)
    with pytest.raises(RuleInputError, match="does not exist"):
        rules.local_to_utc(date(2026, 3, 8), time(2, 30), NY)
    assert rules.local_to_utc(date(2026, 11, 1), time(1, 30), NY) == utc(2026, 11, 1, 5, 30)  # first 01:30


def test_check_booking_collects_every_reason_and_refuses_naive_times():
    now = utc(2026, 12, 7, 15)
    reasons = rules.check_booking(starts_at=utc(2026, 12, 5, 15), ends_at=utc(2026, 12, 5, 15, 30), now=now, zone=NY,
                                  hours=WEEKDAY_HOURS)
    assert {f.rule for f in reasons} == {"SCH-NOT-PAST", "SCH-HOURS"}
    assert rules.check_booking(starts_at=utc(2026, 12, 8, 15), ends_at=utc(2026, 12, 8, 15, 30), now=now, zone=NY,
                               hours=WEEKDAY_HOURS) == []
    with pytest.raises(RuleInputError, match="time zone"):
        rules.check_booking(starts_at=datetime(2026, 12, 8, 15), ends_at=datetime(2026, 12, 8, 16), now=now, zone=NY,
                            hours=WEEKDAY_HOURS)


def test_rule_ids_are_unique_and_versioned():
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) and all(i.startswith("SCH-") for i in ids)
    assert all(r.version >= 1 and r.basis for r in rules.RULES)
