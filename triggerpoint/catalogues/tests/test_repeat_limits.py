"""The one repeat-timing rule (`catalogues.repeat_limits`): both sides of every threshold, and its two users agree.

The coder's payer rules (procedures, PAYER-*) and the repeat-injection policy (outcomes, RPT-*) both
decide "too soon / one too many" here; the last tests run both on the same history and check that
they say the same thing at each boundary, so a copy written again in either would show.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from triggerpoint.catalogues.repeat_limits import (
    INTERVAL,
    REGION_SESSIONS,
    SESSIONS,
    TIMING_RULE,
    LimitCheck,
    RepeatLimits,
    count_check,
    in_window,
    interval_check,
    timing_checks,
)
from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes.repeat import NOT_MET, PriorSession, evaluate_repeat
from triggerpoint.outcomes.repeat_policies import DEFAULT_REPEAT_POLICY, get_repeat_policy
from triggerpoint.procedures.code_tables import load_code_tables
from triggerpoint.procedures.payer_rules import SessionHistory, payer_repeat_limits, repeat_findings

PLANNED = date(2027, 3, 1)


def test_the_rule_has_a_stable_identity_and_sources():
    assert (TIMING_RULE.id, TIMING_RULE.version) == ("REPEAT-TIMING", 1)
    assert TIMING_RULE.sources == ("procedures/data/payers.yaml", "outcomes/data/repeat_policies.yaml")


# ------------------------------------------------------------------ interval in the same area
@pytest.mark.parametrize(("days", "met"), [(0, False), (41, False), (42, True), (43, True)])
def test_the_interval_is_met_from_the_minimum_day_on(days, met):
    assert interval_check(42, days) == LimitCheck(INTERVAL, met, days, 42)


@pytest.mark.parametrize(("days", "met"), [(45, False), (46, True)])
def test_a_minimum_in_part_days_from_weeks_is_met_on_the_next_whole_day(days, met):
    assert interval_check(6.5 * 7, days).met is met  # 45.5 days


@pytest.mark.parametrize(("minimum", "days"), [(None, 10), (42, None)])
def test_no_minimum_or_no_earlier_session_in_the_area_checks_nothing(minimum, days):
    assert interval_check(minimum, days) is None


# ------------------------------------------------------------------ sessions in the window, the planned one included
@pytest.mark.parametrize(("earlier", "met"), [(0, True), (2, True), (3, False), (4, False)])
def test_the_planned_session_counts_toward_the_maximum(earlier, met):
    assert count_check(3, earlier) == LimitCheck(SESSIONS, met, earlier + 1, 3)


def test_a_maximum_of_zero_allows_no_session():
    assert count_check(0, 0).met is False


@pytest.mark.parametrize(("maximum", "earlier"), [(None, 5), (3, None)])
def test_no_maximum_or_an_unknown_history_checks_nothing(maximum, earlier):
    assert count_check(maximum, earlier) is None


# ------------------------------------------------------------------ the rolling window
@pytest.mark.parametrize(("days_before", "counts"), [(0, False), (1, True), (364, True), (365, True), (366, False)])
def test_the_window_is_1_to_365_days_before(days_before, counts):
    assert in_window(days_before) is counts


@pytest.mark.parametrize(("days_before", "counts"), [(30, True), (31, False)])
def test_the_window_follows_the_policy(days_before, counts):
    assert in_window(days_before, 30) is counts


# ------------------------------------------------------------------ all criteria, and bad input
def test_timing_checks_decide_each_limited_criterion_in_a_fixed_order():
    limits = RepeatLimits(min_days_same_region=42, max_sessions_in_window=3, max_region_sessions_in_window=4)
    checks = timing_checks(limits, earlier_in_window=3, earlier_in_region_in_window=3, days_since_same_region=42)
    assert [(c.criterion, c.met) for c in checks] == [(SESSIONS, False), (REGION_SESSIONS, True), (INTERVAL, True)]
    assert timing_checks(RepeatLimits(), earlier_in_window=9, days_since_same_region=1) == ()


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: interval_check(42, -1), "days_since must be a whole number from 0"),
        (lambda: interval_check(-6, 10), "min_days must be a non-negative number"),
        (lambda: interval_check(42, True), "days_since must be a whole number"),
        (lambda: count_check(float("nan"), 1), "max_sessions must be a non-negative number"),
        (lambda: count_check(3, 1.5), "earlier_in_window must be a whole number"),
    ],
)
def test_bad_input_is_refused_with_every_problem_named(call, says):
    with pytest.raises(RuleInputError, match=says):
        call()


# ------------------------------------------------------------------ the two users agree at the boundaries
def _outcomes_not_met(history_days: list[int], policy=DEFAULT_REPEAT_POLICY) -> set[str]:
    history = [PriorSession(PLANNED - timedelta(days=d), frozenset({"cervical"}), relief_percent=80,
                            relief_duration_days=60, functional_improvement_percent=60) for d in history_days]
    decision = evaluate_repeat(history, PLANNED, {"cervical"}, policy)
    return {f.rule for f in decision.findings if f.severity == NOT_MET}


def _payer_warned(payer_id: str, history_days: list[int]) -> set[str]:
    history = SessionHistory(sessions_last_12_months=len(history_days),
                             sessions_same_region_last_12_months=len(history_days),
                             days_since_same_region=min(history_days) if history_days else None)
    return {f.rule for f in repeat_findings(payer_id, history)}


@pytest.mark.parametrize("days", [41, 42])
def test_medicare_interval_agrees_on_both_sides_of_six_weeks(days):
    assert ("RPT-INTERVAL-6W" in _outcomes_not_met([days])) is (days < 42)
    assert ("PAYER-INTERVAL-SAME-REGION" in _payer_warned("medicare", [days])) is (days < 42)


@pytest.mark.parametrize(("earlier", "too_many"), [([300, 200], False), ([300, 200, 100], True)])
def test_medicare_session_count_agrees_on_both_sides_of_three(earlier, too_many):
    assert ("RPT-MAX-3-12M" in _outcomes_not_met(earlier)) is too_many
    assert ("PAYER-FREQ-12M" in _payer_warned("medicare", earlier)) is too_many


def test_both_payer_tables_give_medicare_the_same_limits():
    coder = payer_repeat_limits(load_code_tables().payers["medicare"])
    policy = get_repeat_policy("medicare_lcd")
    assert coder.min_days_same_region == policy.min_weeks_since_same_area * 7 == 42
    assert coder.max_sessions_in_window == policy.max_sessions_per_12_months == 3
    assert coder.max_region_sessions_in_window is policy.max_sessions_per_region_per_year is None
