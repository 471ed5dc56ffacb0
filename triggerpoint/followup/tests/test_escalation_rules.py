"""Who is paged at each escalation level, and when the next level is due (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triggerpoint.followup.escalation import (
    DEFAULT_POLICY,
    EscalationPolicy,
    PageTarget,
    is_overdue,
    next_deadline,
    targets_for_level,
)

ROTA = ("nurse", "dr_a", "dr_b")


def test_the_alert_first_pages_only_the_first_person_on_call():
    assert targets_for_level(0, ROTA, "surgeon") == [PageTarget("nurse", "on_call")]


def test_each_escalation_pages_the_next_person_and_the_performing_physician():
    assert targets_for_level(1, ROTA, "surgeon") == [
        PageTarget("dr_a", "next_on_call"), PageTarget("surgeon", "performing_physician")]
    assert targets_for_level(2, ROTA, "surgeon") == [
        PageTarget("dr_b", "next_on_call"), PageTarget("surgeon", "performing_physician")]


def test_the_performing_physician_is_not_paged_twice_when_next_on_call():
    assert targets_for_level(1, ROTA, "dr_a") == [PageTarget("dr_a", "next_on_call")]


def test_after_the_last_person_everyone_is_paged_again_at_each_level():
    for level in (3, 4, 9):
        targets = targets_for_level(level, ROTA, "surgeon")
        assert [t.person for t in targets] == ["nurse", "dr_a", "dr_b", "surgeon"]
        assert {t.reason for t in targets[:3]} == {"whole_rota"}


def test_with_nobody_on_call_the_performing_physician_is_paged_at_every_level():
    for level in (0, 1, 5):
        assert targets_for_level(level, (), "surgeon") == [PageTarget("surgeon", "no_one_on_call")]


def test_a_negative_level_is_a_programming_error():
    with pytest.raises(ValueError):
        targets_for_level(-1, ROTA, "surgeon")


def test_the_default_window_is_15_minutes_from_the_latest_page():
    paged = datetime(2025, 3, 4, 0, 5, tzinfo=UTC)
    assert next_deadline(paged) == paged + timedelta(minutes=15)
    assert DEFAULT_POLICY.acknowledge_within == timedelta(minutes=15)
    assert next_deadline(paged, EscalationPolicy(timedelta(minutes=5))) == paged + timedelta(minutes=5)


def test_the_alert_escalates_at_the_deadline_not_a_second_before():
    deadline = datetime(2025, 3, 4, 0, 20, tzinfo=UTC)
    assert not is_overdue(deadline, deadline - timedelta(seconds=1))
    assert is_overdue(deadline, deadline)
    assert not is_overdue(None, deadline)


def test_a_non_positive_window_and_naive_times_are_refused():
    with pytest.raises(ValueError):
        EscalationPolicy(timedelta(0))
    with pytest.raises(ValueError):
        next_deadline(datetime(2025, 3, 4, 0, 5))
