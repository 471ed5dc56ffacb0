"""Specification of duration of relief and its Kaplan-Meier estimate."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons
from lifelines.utils import median_survival_times

from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes.relief import (
    CENSORED,
    NOT_EVALUABLE,
    RELIEF_ENDED,
    Observation,
    ReliefDuration,
    ReliefPolicy,
    kaplan_meier,
    relief_duration,
)

PROCEDURE = date(2026, 3, 2)


def day(n: int) -> date:
    return PROCEDURE + timedelta(days=n)


def duration(days: int, event: bool) -> ReliefDuration:
    return ReliefDuration(days, event, "hand-built", RELIEF_ENDED if event else CENSORED)


# --------------------------------------------------------------------------- the definition on hand-built cases


def test_relief_ends_at_the_first_follow_up_where_relief_falls_below_fifty_percent():
    result = relief_duration(
        PROCEDURE,
        7,
        [
            Observation(day(14), percent_relief=80),
            Observation(day(42), percent_relief=49),
            Observation(day(70), percent_relief=20),
        ],
    )
    assert (result.days, result.event_observed, result.status) == (42, True, RELIEF_ENDED)
    assert "49% is below 50%" in result.reason


def test_exactly_fifty_percent_relief_still_counts_as_relief():
    result = relief_duration(
        PROCEDURE, 7, [Observation(day(14), percent_relief=50), Observation(day(42), percent_relief=50)]
    )
    assert (result.days, result.event_observed) == (42, False)


def test_relief_ends_when_pain_returns_to_baseline():
    result = relief_duration(
        PROCEDURE, 7, [Observation(day(14), pain_now=6), Observation(day(28), pain_now=7)]
    )
    assert (result.days, result.event_observed) == (28, True)
    assert "back to 7/10" in result.reason


def test_pain_just_below_baseline_is_still_relief():
    result = relief_duration(PROCEDURE, 7, [Observation(day(28), pain_now=6.5)])
    assert (result.days, result.event_observed) == (28, False)


def test_either_measure_ending_relief_ends_it():
    result = relief_duration(PROCEDURE, 7, [Observation(day(21), pain_now=8, percent_relief=60)])
    assert (result.days, result.event_observed) == (21, True)


def test_the_procedure_day_reading_does_not_count():
    # The immediate post-injection reading mostly reflects the local anaesthetic.
    only_day_zero = relief_duration(PROCEDURE, 7, [Observation(day(0), percent_relief=90)])
    assert only_day_zero.status == NOT_EVALUABLE and only_day_zero.days is None
    loss_on_day_zero = relief_duration(
        PROCEDURE, 7, [Observation(day(0), percent_relief=10), Observation(day(1), percent_relief=70)]
    )
    assert (loss_on_day_zero.days, loss_on_day_zero.event_observed) == (1, False)


def test_a_clinic_may_choose_to_count_the_procedure_day():
    result = relief_duration(
        PROCEDURE, 7, [Observation(day(0), percent_relief=10)], policy=ReliefPolicy(first_counted_day=0)
    )
    assert (result.days, result.event_observed) == (0, True)


def test_it_is_censored_at_the_last_observation_when_relief_never_ends():
    result = relief_duration(
        PROCEDURE,
        7,
        [Observation(day(14), percent_relief=90), Observation(day(56), percent_relief=70)],
        follow_up_end=day(90),
    )
    assert (result.days, result.event_observed, result.status) == (56, False, CENSORED)


def test_observations_after_follow_up_end_are_ignored():
    # e.g. follow-up ends at the next procedure; later readings describe that one.
    result = relief_duration(
        PROCEDURE,
        7,
        [Observation(day(30), percent_relief=70), Observation(day(60), percent_relief=10)],
        follow_up_end=day(45),
    )
    assert (result.days, result.event_observed) == (30, False)
    on_the_end_date = relief_duration(
        PROCEDURE, 7, [Observation(day(45), percent_relief=10)], follow_up_end=day(45)
    )
    assert (on_the_end_date.days, on_the_end_date.event_observed) == (45, True)


def test_it_is_not_evaluable_without_any_post_procedure_observation():
    assert relief_duration(PROCEDURE, 7, []).status == NOT_EVALUABLE
    result = relief_duration(PROCEDURE, 7, [Observation(day(50), percent_relief=80)], follow_up_end=day(20))
    assert result.status == NOT_EVALUABLE and not result.evaluable


def test_observation_order_does_not_matter():
    observations = [
        Observation(day(42), percent_relief=30),
        Observation(day(14), percent_relief=80),
        Observation(day(28), percent_relief=40),
    ]
    assert relief_duration(PROCEDURE, 7, observations).days == 28


def test_percent_relief_alone_needs_no_baseline_but_pain_alone_does():
    assert relief_duration(PROCEDURE, None, [Observation(day(14), percent_relief=20)]).days == 14
    with pytest.raises(RuleInputError, match="needs a baseline_pain"):
        relief_duration(PROCEDURE, None, [Observation(day(14), pain_now=3)])


def test_it_lists_every_input_problem_at_once():
    with pytest.raises(RuleInputError) as error:
        relief_duration(
            PROCEDURE,
            0,
            [
                Observation(day(-1), percent_relief=80),
                Observation(day(3)),
                Observation(day(5), pain_now=11, percent_relief=120),
            ],
            follow_up_end=day(-5),
        )
    text = str(error.value)
    for expected in (
        "baseline_pain must be above 0",
        "before the procedure",
        "neither pain_now nor percent_relief",
        "pain_now must be 0-10",
        "percent_relief must be 0-100",
        "follow_up_end",
    ):
        assert expected in text
    assert len(error.value.problems) == 6


def test_a_datetime_is_not_a_procedure_day():
    with pytest.raises(RuleInputError, match="procedure_date must be a date"):
        relief_duration(datetime(2026, 3, 2, 9, 0), 7, [])


# --------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_matches_the_product_limit_computed_by_hand():
    # Days 3 (loss), 5 (loss), 5 (censored), 8 (loss), 10 (censored).
    # S(3) = 4/5; S(5) = 4/5 * 3/4; S(8) = 0.6 * 1/2; median = first day S <= 0.5 = 8.
    result = kaplan_meier(
        {
            "lidocaine": [
                duration(3, True),
                duration(5, True),
                duration(5, False),
                duration(8, True),
                duration(10, False),
            ]
        }
    )["lidocaine"]
    assert result.timeline == (0, 3, 5, 8, 10)
    assert result.survival == pytest.approx((1, 0.8, 0.6, 0.3, 0.3))
    assert result.median_days == 8
    assert (result.n, result.events, result.not_evaluable) == (5, 3, 0)

    # Exponential Greenwood ("log-log") interval at day 3, by hand.
    s, z = 0.8, 1.959963984540054
    greenwood = 1 / (5 * 4)
    spread = z * math.sqrt(greenwood / math.log(s) ** 2)
    assert result.ci_low[1] == pytest.approx(s ** math.exp(spread))
    assert result.ci_high[1] == pytest.approx(s ** math.exp(-spread))


def test_kaplan_meier_median_is_none_when_relief_outlasts_follow_up():
    result = kaplan_meier({"steroid": [duration(10, True), duration(60, False), duration(90, False)]})[
        "steroid"
    ]
    assert result.median_days is None and result.median_ci_high is None


def test_kaplan_meier_agrees_with_lifelines_on_the_waltons_dataset():
    waltons = load_waltons()
    groups = {
        name: [duration(int(row.T), bool(row.E)) for row in frame.itertuples()]
        for name, frame in waltons.groupby("group")
    }
    results = kaplan_meier(groups)
    assert set(results) == {"control", "miR-137"}
    for name, frame in waltons.groupby("group"):
        reference = KaplanMeierFitter().fit(frame["T"], frame["E"])
        reference_median = median_survival_times(reference.confidence_interval_)
        ours = results[name]
        assert ours.n == len(frame) and ours.events == int(frame["E"].sum())
        assert ours.timeline == pytest.approx(tuple(reference.timeline))
        assert ours.survival == pytest.approx(tuple(reference.survival_function_.iloc[:, 0]))
        assert ours.ci_low == pytest.approx(tuple(reference.confidence_interval_.iloc[:, 0]))
        assert ours.ci_high == pytest.approx(tuple(reference.confidence_interval_.iloc[:, 1]))
        assert ours.median_days == reference.median_survival_time_
        assert ours.median_ci_low == reference_median.iloc[0, 0]
        assert ours.median_ci_high == reference_median.iloc[0, 1]


def test_kaplan_meier_confidence_level_is_configurable():
    durations = {"g": [duration(d, d % 3 != 0) for d in range(5, 60, 4)]}
    narrow = kaplan_meier(durations, confidence=0.80)["g"]
    wide = kaplan_meier(durations, confidence=0.95)["g"]
    assert narrow.survival == wide.survival
    assert all(n >= w for n, w in zip(narrow.ci_low[1:], wide.ci_low[1:], strict=True))
    assert any(n > w for n, w in zip(narrow.ci_low[1:], wide.ci_low[1:], strict=True))


def test_kaplan_meier_leaves_out_and_counts_not_evaluable_cases():
    not_evaluable = relief_duration(PROCEDURE, 7, [])
    result = kaplan_meier({"g": [duration(14, True), duration(42, False), not_evaluable]})["g"]
    assert (result.n, result.events, result.not_evaluable) == (2, 1, 1)


def test_kaplan_meier_refuses_a_group_with_nothing_to_estimate():
    with pytest.raises(RuleInputError, match="'empty' has no evaluable"):
        kaplan_meier({"empty": [relief_duration(PROCEDURE, 7, [])], "ok": [duration(3, True)]})
