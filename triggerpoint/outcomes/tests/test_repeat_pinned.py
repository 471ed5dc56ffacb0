"""Pinned specification of the repeat-injection rule: literal thresholds, dates and message text.

Every expected value here is written out (42 days, 365 days, "3rd", the full message), never computed from the
policy under test, so a changed threshold, boundary or wording in outcomes/repeat.py makes a test fail.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import repeat, repeat_policies
from triggerpoint.outcomes.repeat import (
    INFO,
    MET,
    NOT_MET,
    PriorSession,
    evaluate_repeat,
    repeat_rules,
)
from triggerpoint.outcomes.repeat_policies import RepeatPolicy, load_repeat_policies

PLANNED = date(2027, 3, 1)
REGIONS = (
    "cephalic, facial, cervical, thoracic, scapular, shoulder, upper_limb, chest_wall, abdominal, lumbar, "
    "pelvic_gluteal, lower_limb"
)


def prior(day: date, regions=("lumbar",), relief=70, duration=60, function=60, muscles=("quadratus_lumborum",)):
    return PriorSession(
        date=day,
        body_regions=frozenset(regions),
        muscles=frozenset(muscles),
        relief_percent=relief,
        relief_duration_days=duration,
        functional_improvement_percent=function,
    )


def only(decision, rule_id, region=None):
    matches = [f for f in decision.findings if f.rule == rule_id and (region is None or f.data.get("region") == region)]
    assert len(matches) == 1, [(f.rule, f.message) for f in decision.findings]
    return matches[0]


def problems(*args):
    with pytest.raises(RuleInputError) as error:
        evaluate_repeat(*args)
    return error.value.problems


# --------------------------------------------------------------------------- the Medicare defaults, literally


def test_the_default_policy_is_medicare_with_its_literal_thresholds():
    policy = RepeatPolicy()
    assert policy.id == "medicare_lcd"
    assert policy.name == "Medicare LCDs L34211 / L36859 (2024 harmonized TPI)"
    assert (policy.min_relief_percent, policy.min_relief_duration_weeks) == (50, 6)
    assert (policy.min_functional_improvement_percent, policy.min_weeks_since_same_area) == (50, 6)
    assert (policy.max_sessions_per_12_months, policy.max_sessions_per_region_per_year) == (3, None)
    assert policy.window_days == 365
    assert policy.notes == ""
    assert len(policy.sources) == 5
    assert policy.sources[0].startswith("Medicare LCD L34211 ")


def test_every_rule_basis_is_worded_with_the_medicare_thresholds():
    rules = repeat_rules()
    applied = " Policy applied: Medicare LCDs L34211 / L36859 (2024 harmonized TPI)."
    expected = {
        "RPT-FIRST-IN-REGION": (
            "First injection in this region",
            "Relief criteria for a repeat injection apply only to a region treated before.",
        ),
        "RPT-RELIEF-50": (
            "Relief after the last session",
            "A repeat injection needs documented relief of at least 50% after the last injection in the same "
            "region, on the same pain scale as at baseline; vague statements are insufficient.",
        ),
        "RPT-RELIEF-6W": (
            "Duration of relief after the last session",
            "That relief must have lasted at least 6 weeks, with the dates of the measurements documented.",
        ),
        "RPT-FUNCTION-50": (
            "Functional improvement after the last session",
            "A repeat injection needs at least 50% improvement in function on a validated scale.",
        ),
        "RPT-INTERVAL-6W": (
            "Interval since the same region was treated",
            "At least 6 weeks must pass before the same region is injected again.",
        ),
        "RPT-MAX-3-12M": (
            "Sessions in a rolling 12 months",
            "No more than 3 sessions in any rolling 365 days, the planned session included.",
        ),
        "RPT-MAX-REGION-YEAR": ("Sessions per region in a rolling year", "Off in this policy."),
    }
    assert set(rules) == set(expected)
    for rule_id, (title, basis) in expected.items():
        rule = rules[rule_id]
        assert (rule.id, rule.version, rule.title, rule.basis) == (rule_id, 1, title, basis + applied)
        assert rule.sources == RepeatPolicy().sources


def test_a_criterion_that_is_off_says_so_in_its_basis_and_a_regional_limit_names_its_number():
    policy = RepeatPolicy(
        name="Clinic",
        min_relief_percent=None,
        min_relief_duration_weeks=None,
        min_functional_improvement_percent=None,
        min_weeks_since_same_area=None,
        max_sessions_per_12_months=None,
        max_sessions_per_region_per_year=4,
        window_days=360,
    )
    rules = repeat_rules(policy)
    for rule_id in ("RPT-RELIEF-50", "RPT-RELIEF-6W", "RPT-FUNCTION-50", "RPT-INTERVAL-6W", "RPT-MAX-3-12M"):
        assert rules[rule_id].basis == "Off in this policy. Policy applied: Clinic."
    assert rules["RPT-MAX-REGION-YEAR"].basis == (
        "No more than 4 sessions in the same region in any rolling 360 days, the planned session included. "
        "Policy applied: Clinic."
    )


def test_fractional_thresholds_are_shown_without_trailing_zeros():
    rules = repeat_rules(RepeatPolicy(min_relief_percent=50.0, min_functional_improvement_percent=33.5))
    assert "at least 50% after" in rules["RPT-RELIEF-50"].basis
    assert "at least 33.5% improvement" in rules["RPT-FUNCTION-50"].basis


# --------------------------------------------------------------------------- an eligible repeat, every message


def test_an_eligible_repeat_says_exactly_what_was_found():
    history = [prior(date(2026, 11, 1)), prior(date(2027, 1, 1), regions=("lumbar", "cervical"))]
    decision = evaluate_repeat(history, PLANNED, ["lumbar", "cervical", "lumbar"])
    assert decision.eligible is True
    assert decision.policy == "medicare_lcd"
    assert [(f.rule, f.severity, f.message) for f in decision.findings] == [
        ("RPT-RELIEF-50", MET,
         "last session in the cervical and lumbar regions on 2027-01-01: 70% relief documented"),
        ("RPT-RELIEF-6W", MET, "last session in the cervical and lumbar regions on 2027-01-01: relief lasted 60 days"),
        ("RPT-FUNCTION-50", MET,
         "last session in the cervical and lumbar regions on 2027-01-01: 60% functional improvement documented"),
        ("RPT-INTERVAL-6W", MET, "59 days since the cervical region was treated on 2027-01-01"),
        ("RPT-INTERVAL-6W", MET, "59 days since the lumbar region was treated on 2027-01-01"),
        ("RPT-MAX-3-12M", MET,
         "the planned session would be the 3rd from 2026-03-01 (earlier: 2026-11-01, 2027-01-01); "
         "policy allows 3 in 365 days"),
    ]
    relief = decision.findings[0]
    assert relief.data == {
        "session_date": "2027-01-01",
        "regions": ["cervical", "lumbar"],
        "muscles": ["quadratus_lumborum"],
        "relief_percent": 70,
    }
    where = {"session_date": "2027-01-01", "regions": ["cervical", "lumbar"], "muscles": ["quadratus_lumborum"]}
    assert decision.findings[1].data == {**where, "relief_duration_days": 60}
    assert decision.findings[2].data == {**where, "functional_improvement_percent": 60}
    assert decision.findings[3].data == {
        "region": "cervical",
        "days_since": 59,
        "required_days": 42,
        "earliest_date": "2027-02-12",
    }
    assert decision.findings[5].data == {
        "session_number": 3,
        "allowed": 3,
        "window_start": "2026-03-01",
        "counted_sessions": ["2026-11-01", "2027-01-01"],
    }
    as_dict = decision.as_dict()
    assert as_dict["eligible"] is True and as_dict["policy"] == "medicare_lcd"
    assert as_dict["findings"][0]["rule"] == "RPT-RELIEF-50"
    assert len(as_dict["findings"]) == 6


def test_the_decision_names_the_policy_it_applied():
    clinic = RepeatPolicy(id="clinic_strict")
    decision = evaluate_repeat([], PLANNED, {"lumbar"}, clinic)
    assert decision.policy == "clinic_strict"
    assert decision.as_dict()["policy"] == "clinic_strict"


def test_a_single_region_is_named_in_the_singular():
    decision = evaluate_repeat([prior(date(2027, 1, 1))], PLANNED, {"lumbar"})
    assert only(decision, "RPT-RELIEF-50").message == (
        "last session in the lumbar region on 2027-01-01: 70% relief documented"
    )


def test_relief_is_read_per_region_from_that_regions_latest_session():
    history = [
        prior(date(2026, 12, 1), regions=("cervical",), relief=80),
        prior(date(2027, 1, 1), regions=("lumbar",), relief=40),
    ]
    decision = evaluate_repeat(history, PLANNED, {"lumbar", "cervical"})
    reliefs = [f for f in decision.findings if f.rule == "RPT-RELIEF-50"]
    assert [(f.severity, f.message) for f in reliefs] == [
        (MET, "last session in the cervical region on 2026-12-01: 80% relief documented"),
        (NOT_MET, "last session in the lumbar region on 2027-01-01: 40% relief documented; "
                  "policy requires at least 50%"),
    ]
    assert decision.eligible is False
    assert decision.as_dict()["eligible"] is False


def test_a_first_injection_in_a_region_is_an_info_finding_with_its_text():
    decision = evaluate_repeat([prior(date(2027, 1, 1), regions=("cervical",))], PLANNED, {"lumbar"})
    first = only(decision, "RPT-FIRST-IN-REGION")
    assert first.severity == INFO
    assert first.message == "no earlier session in the lumbar region: relief criteria for a repeat do not apply"
    assert first.data == {"region": "lumbar"}
    assert {f.rule for f in decision.findings} == {"RPT-FIRST-IN-REGION", "RPT-MAX-3-12M"}
    assert decision.eligible is True


# --------------------------------------------------------------------------- relief, duration and function


@pytest.mark.parametrize(("relief", "severity"), [(49.99, NOT_MET), (50, MET), (50.01, MET), (0, NOT_MET), (100, MET)])
def test_relief_of_50_percent_is_enough_and_just_under_is_not(relief, severity):
    assert only(evaluate_repeat([prior(date(2027, 1, 1), relief=relief)], PLANNED, {"lumbar"}), "RPT-RELIEF-50").severity == severity


def test_missing_relief_duration_and_function_each_fail_with_their_own_message():
    decision = evaluate_repeat(
        [prior(date(2027, 1, 1), relief=None, duration=None, function=None)], PLANNED, {"lumbar"}
    )
    where = "last session in the lumbar region on 2027-01-01"
    assert [(f.rule, f.severity, f.message) for f in decision.findings[:3]] == [
        ("RPT-RELIEF-50", NOT_MET, f"{where}: no percent relief documented; policy requires at least 50%"),
        ("RPT-RELIEF-6W", NOT_MET,
         f"{where}: duration of relief not documented; policy requires at least 42 days (6 weeks)"),
        ("RPT-FUNCTION-50", NOT_MET,
         f"{where}: functional improvement not documented; policy requires at least 50%"),
    ]
    for f in decision.findings[:3]:
        assert f.data == {"session_date": "2027-01-01", "regions": ["lumbar"], "muscles": ["quadratus_lumborum"]}
    assert decision.eligible is False


@pytest.mark.parametrize(
    ("days", "severity", "message"),
    [
        (41, NOT_MET, "relief lasted 41 days; policy requires at least 42 days (6 weeks)"),
        (42, MET, "relief lasted 42 days"),
        (43, MET, "relief lasted 43 days"),
    ],
)
def test_relief_lasting_42_days_is_enough_and_41_is_not(days, severity, message):
    f = only(evaluate_repeat([prior(date(2027, 1, 1), duration=days)], PLANNED, {"lumbar"}), "RPT-RELIEF-6W")
    assert (f.severity, f.message) == (severity, f"last session in the lumbar region on 2027-01-01: {message}")


@pytest.mark.parametrize(
    ("function", "severity", "message"),
    [
        (49.5, NOT_MET, "49.5% functional improvement documented; policy requires at least 50%"),
        (50, MET, "50% functional improvement documented"),
        (-10, NOT_MET, "-10% functional improvement documented; policy requires at least 50%"),
    ],
)
def test_functional_improvement_of_50_percent_is_enough(function, severity, message):
    f = only(evaluate_repeat([prior(date(2027, 1, 1), function=function)], PLANNED, {"lumbar"}), "RPT-FUNCTION-50")
    assert (f.severity, f.message) == (severity, f"last session in the lumbar region on 2027-01-01: {message}")


def test_a_relief_criterion_that_is_off_is_not_reported_even_when_undocumented():
    policy = RepeatPolicy(min_relief_percent=None)
    decision = evaluate_repeat([prior(date(2027, 1, 1), relief=None)], PLANNED, {"lumbar"}, policy)
    assert "RPT-RELIEF-50" not in {f.rule for f in decision.findings}
    assert decision.eligible is True


# --------------------------------------------------------------------------- interval


@pytest.mark.parametrize(
    ("treated", "severity", "message", "earliest"),
    [
        (date(2027, 1, 18), MET, "42 days since the lumbar region was treated on 2027-01-18", "2027-03-01"),
        (date(2027, 1, 19), NOT_MET,
         "only 41 days since the lumbar region was treated on 2027-01-19; policy requires 42", "2027-03-02"),
    ],
)
def test_the_interval_boundary_is_42_days_with_literal_dates(treated, severity, message, earliest):
    f = only(evaluate_repeat([prior(treated)], PLANNED, {"lumbar"}), "RPT-INTERVAL-6W")
    assert (f.severity, f.message, f.data["earliest_date"]) == (severity, message, earliest)


def test_an_interval_one_day_short_names_the_earliest_allowed_date():
    f = only(evaluate_repeat([prior(date(2027, 1, 19))], PLANNED, {"lumbar"}), "RPT-INTERVAL-6W")
    assert f.data == {"region": "lumbar", "days_since": 41, "required_days": 42, "earliest_date": "2027-03-02"}


def test_the_interval_is_off_when_the_policy_sets_none():
    decision = evaluate_repeat([prior(date(2027, 2, 28))], PLANNED, {"lumbar"}, RepeatPolicy(min_weeks_since_same_area=None))
    assert "RPT-INTERVAL-6W" not in {f.rule for f in decision.findings}
    assert decision.eligible is True


# --------------------------------------------------------------------------- rolling 365 days


def test_a_session_365_days_before_is_counted_and_named_366_is_not():
    history = [prior(date(2026, 3, 1)), prior(date(2026, 2, 28)), prior(date(2026, 10, 1)), prior(date(2027, 1, 1))]
    f = only(evaluate_repeat(history, PLANNED, {"lumbar"}), "RPT-MAX-3-12M")
    assert f.severity == NOT_MET
    assert f.message == (
        "the planned session would be the 4th from 2026-03-01 (earlier: 2026-03-01, 2026-10-01, 2027-01-01); "
        "policy allows 3 in 365 days"
    )
    assert f.data["counted_sessions"] == ["2026-03-01", "2026-10-01", "2027-01-01"]
    assert f.data["session_number"] == 4


def test_with_no_earlier_session_the_planned_one_is_the_1st():
    f = only(evaluate_repeat([], PLANNED, {"lumbar"}), "RPT-MAX-3-12M")
    assert f.severity == MET
    assert f.message == "the planned session would be the 1st from 2026-03-01 (earlier: none); policy allows 3 in 365 days"
    assert f.data == {"session_number": 1, "allowed": 3, "window_start": "2026-03-01", "counted_sessions": []}


def test_the_2nd_session_is_worded_2nd():
    f = only(evaluate_repeat([prior(date(2027, 1, 1))], PLANNED, {"lumbar"}), "RPT-MAX-3-12M")
    assert "would be the 2nd from" in f.message


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (9, "9th"), (10, "10th"), (11, "11th"), (12, "12th"),
     (13, "13th"), (20, "20th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"),
     (112, "112th"), (211, "211th"), (1013, "1013th"), (1021, "1021st")],
)
def test_ordinals(n, text):
    assert repeat._ordinal(n) == text


def test_a_session_the_day_before_counts_toward_the_limit():
    f = only(evaluate_repeat([prior(date(2027, 2, 28))], PLANNED, {"lumbar"}), "RPT-MAX-3-12M")
    assert f.data["counted_sessions"] == ["2027-02-28"]
    assert f.data["session_number"] == 2


def test_planned_regions_may_be_any_iterable_read_once():
    decision = evaluate_repeat([prior(date(2027, 1, 1))], PLANNED, iter(["lumbar"]))
    assert only(decision, "RPT-INTERVAL-6W", "lumbar").data["days_since"] == 59
    assert only(decision, "RPT-RELIEF-50").severity == MET


def test_the_window_length_comes_from_the_policy():
    policy = RepeatPolicy(window_days=30, max_sessions_per_12_months=1, min_weeks_since_same_area=None)
    inside = only(evaluate_repeat([prior(date(2027, 1, 30))], PLANNED, {"lumbar"}, policy), "RPT-MAX-3-12M")
    outside = only(evaluate_repeat([prior(date(2027, 1, 29))], PLANNED, {"lumbar"}, policy), "RPT-MAX-3-12M")
    assert inside.severity == NOT_MET and inside.message.endswith("policy allows 1 in 30 days")
    assert inside.data["window_start"] == "2027-01-30"
    assert outside.severity == MET


# --------------------------------------------------------------------------- per region per year


def test_a_regional_limit_of_4_allows_the_4th_in_that_region_but_not_the_5th():
    policy = RepeatPolicy(max_sessions_per_12_months=None, max_sessions_per_region_per_year=4)
    three = [prior(date(2026, 6, 1)), prior(date(2026, 9, 1)), prior(date(2026, 12, 1))]
    ok = only(evaluate_repeat(three, PLANNED, {"lumbar"}, policy), "RPT-MAX-REGION-YEAR", "lumbar")
    assert ok.severity == MET
    assert ok.message == (
        "the planned session would be the 4th in the lumbar region from 2026-03-01; policy allows 4 in 365 days"
    )
    assert ok.data == {
        "region": "lumbar",
        "session_number": 4,
        "allowed": 4,
        "window_start": "2026-03-01",
        "counted_sessions": ["2026-06-01", "2026-09-01", "2026-12-01"],
    }
    four = [prior(date(2026, 3, 1)), *three, prior(date(2026, 2, 28))]
    too_many = only(evaluate_repeat(four, PLANNED, {"lumbar"}, policy), "RPT-MAX-REGION-YEAR", "lumbar")
    assert too_many.severity == NOT_MET
    assert too_many.data["session_number"] == 5
    assert too_many.message.startswith("the planned session would be the 5th in the lumbar region")


def test_the_regional_limit_counts_only_sessions_in_that_region_and_checks_each_planned_region():
    policy = RepeatPolicy(max_sessions_per_12_months=None, max_sessions_per_region_per_year=1)
    history = [prior(date(2026, 12, 1), regions=("cervical",))]
    decision = evaluate_repeat(history, PLANNED, {"lumbar", "cervical"}, policy)
    assert only(decision, "RPT-MAX-REGION-YEAR", "cervical").severity == NOT_MET
    lumbar = only(decision, "RPT-MAX-REGION-YEAR", "lumbar")
    assert lumbar.severity == MET and lumbar.data["counted_sessions"] == []


# --------------------------------------------------------------------------- input problems, literal text


def test_a_planned_date_that_is_not_a_date_is_refused():
    assert problems([], "2027-03-01", {"lumbar"}) == ["planned_date must be a date, got '2027-03-01'"]
    assert problems([], datetime(2027, 3, 1, 9, 0), {"lumbar"}) == [
        "planned_date must be a date, got datetime.datetime(2027, 3, 1, 9, 0)"
    ]


def test_regions_problems_name_the_allowed_regions():
    assert problems([], PLANNED, "lumbar") == ["planned_body_regions must be a set of body regions, got 'lumbar'"]
    assert problems([], PLANNED, set()) == [f"planned_body_regions names no body region; allowed: {REGIONS}"]
    assert problems([], PLANNED, {"neck", "back", "lumbar"}) == [
        f"planned_body_regions has unknown body regions back, neck; allowed: {REGIONS}"
    ]


def test_a_history_entry_that_is_not_a_session_is_refused():
    assert problems([{"date": PLANNED}], PLANNED, {"lumbar"}) == ["history session 1 must be a PriorSession, got dict"]


def test_session_dates_must_be_dates_before_the_planned_date():
    assert problems([prior(PLANNED)], PLANNED, {"lumbar"}) == [
        "history session 1 on 2027-03-01 is not before the planned date 2027-03-01; history holds earlier sessions only"
    ]
    assert problems([prior(date(2027, 3, 2))], PLANNED, {"lumbar"})[0].startswith("history session 1 on 2027-03-02")
    assert evaluate_repeat([prior(date(2027, 2, 28))], PLANNED, {"lumbar"}).findings
    assert problems([prior(date(2027, 1, 1)), prior("2027-01-02")], PLANNED, {"lumbar"}) == [
        "history session 2 date must be a date, got '2027-01-02'"
    ]
    assert problems([prior(datetime(2027, 1, 1, 8, 0))], PLANNED, {"lumbar"}) == [
        "history session 1 date must be a date, got datetime.datetime(2027, 1, 1, 8, 0)"
    ]


def test_session_regions_are_checked_like_planned_regions():
    assert problems([prior(date(2027, 1, 1), regions=())], PLANNED, {"lumbar"}) == [
        f"history session 1 body_regions names no body region; allowed: {REGIONS}"
    ]
    bare = PriorSession(date=date(2027, 1, 1), body_regions="lumbar")
    assert problems([bare], PLANNED, {"lumbar"}) == [
        "history session 1 body_regions must be a set of body regions, got 'lumbar'"
    ]
    not_iterable = PriorSession(date=date(2027, 1, 1), body_regions=5)
    assert problems([not_iterable], PLANNED, {"lumbar"}) == [
        "history session 1 body_regions must be a set of body regions, got 5"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("relief", -0.1, "relief_percent must be a number from 0 to 100 or None, got -0.1"),
        ("relief", 100.1, "relief_percent must be a number from 0 to 100 or None, got 100.1"),
        ("relief", True, "relief_percent must be a number from 0 to 100 or None, got True"),
        ("relief", math.nan, "relief_percent must be a number from 0 to 100 or None, got nan"),
        ("relief", "70", "relief_percent must be a number from 0 to 100 or None, got '70'"),
        ("function", 100.5, "functional_improvement_percent must be a number from -inf to 100 or None, got 100.5"),
        ("duration", -1, "relief_duration_days must be a number from 0 to inf or None, got -1"),
        ("duration", math.inf, "relief_duration_days must be a number from 0 to inf or None, got inf"),
    ],
)
def test_out_of_range_session_values_are_refused_with_their_range(field, value, message):
    assert problems([prior(date(2027, 1, 1), **{field: value})], PLANNED, {"lumbar"}) == [
        f"history session 1 {message}"
    ]


@pytest.mark.parametrize(("relief", "duration", "function"), [(0, 0, -50), (100, 0, 100)])
def test_the_ends_of_each_range_are_accepted(relief, duration, function):
    evaluate_repeat([prior(date(2027, 1, 1), relief=relief, duration=duration, function=function)], PLANNED, {"lumbar"})


def test_two_sessions_on_one_day_must_be_merged():
    history = [prior(date(2027, 1, 1)), prior(date(2026, 12, 1)), prior(date(2027, 1, 1)), prior(date(2026, 12, 1))]
    assert problems(history, PLANNED, {"lumbar"}) == [
        "more than one history session on 2026-12-01, 2027-01-01; a session is all procedures on one day, so merge them"
    ]


def test_every_problem_is_listed_in_order():
    history = [prior(PLANNED, regions=("neck",), relief=120)]
    assert problems(history, PLANNED, {"back"}) == [
        f"planned_body_regions has unknown body regions back; allowed: {REGIONS}",
        "history session 1 on 2027-03-01 is not before the planned date 2027-03-01; history holds earlier sessions only",
        f"history session 1 body_regions has unknown body regions neck; allowed: {REGIONS}",
        "history session 1 relief_percent must be a number from 0 to 100 or None, got 120",
    ]


def test_a_policy_that_is_not_a_repeat_policy_is_refused():
    assert problems([], PLANNED, {"lumbar"}, {"id": "x"}) == ["policy must be a RepeatPolicy, got dict"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window_days": 0}, "policy.window_days must be a positive whole number, got 0"),
        ({"window_days": 365.0}, "policy.window_days must be a positive whole number, got 365.0"),
        ({"min_relief_percent": -1}, "policy.min_relief_percent must be a non-negative number or None, got -1"),
        ({"min_relief_duration_weeks": "6"},
         "policy.min_relief_duration_weeks must be a non-negative number or None, got '6'"),
        ({"min_functional_improvement_percent": math.nan},
         "policy.min_functional_improvement_percent must be a non-negative number or None, got nan"),
        ({"min_weeks_since_same_area": -0.5},
         "policy.min_weeks_since_same_area must be a non-negative number or None, got -0.5"),
        ({"max_sessions_per_12_months": True},
         "policy.max_sessions_per_12_months must be a non-negative number or None, got True"),
        ({"max_sessions_per_region_per_year": -3},
         "policy.max_sessions_per_region_per_year must be a non-negative number or None, got -3"),
    ],
)
def test_bad_policy_values_are_refused(changes, message):
    policy = dataclasses.replace(RepeatPolicy(), **changes)
    assert problems([], PLANNED, {"lumbar"}, policy) == [message]


def test_zero_thresholds_and_a_one_day_window_are_accepted():
    policy = RepeatPolicy(min_relief_percent=0, min_weeks_since_same_area=0, window_days=1)
    evaluate_repeat([prior(date(2027, 2, 28))], PLANNED, {"lumbar"}, policy)


# --------------------------------------------------------------------------- presets file


@pytest.fixture
def policies_file(tmp_path, monkeypatch):
    path = tmp_path / "repeat_policies.yaml"
    monkeypatch.setattr(repeat_policies, "POLICIES_PATH", path)
    load_repeat_policies.cache_clear()
    yield path
    load_repeat_policies.cache_clear()


ENTRY = """
  - id: {id}
    name: Test
    min_relief_percent: 50
    min_relief_duration_weeks: 6
    min_functional_improvement_percent: null
    min_weeks_since_same_area: 6
    max_sessions_per_12_months: 3
    max_sessions_per_region_per_year: null
    window_days: 365
    notes: n
    sources: [s]
"""


def test_a_policy_defined_twice_and_an_unknown_default_are_both_refused(policies_file):
    policies_file.write_text("version: 1\ndefault: other\npolicies:" + ENTRY.format(id="a") + ENTRY.format(id="a"))
    with pytest.raises(RuleInputError) as error:
        load_repeat_policies()
    assert error.value.problems == [
        "repeat_policies.yaml: policy 'a' is defined twice",
        "repeat_policies.yaml: default 'other' is not a defined policy",
    ]


def test_a_valid_presets_file_loads_into_policies(policies_file):
    policies_file.write_text("version: 1\ndefault: a\npolicies:" + ENTRY.format(id="a"))
    assert load_repeat_policies() == {
        "a": RepeatPolicy(
            id="a", name="Test", min_functional_improvement_percent=None, notes="n", sources=("s",)
        )
    }


def test_schema_errors_name_the_path_of_the_bad_value(policies_file):
    policies_file.write_text(
        "version: 1\ndefault: a\npolicies:" + ENTRY.format(id="a").replace("window_days: 365", "window_days: 0")
    )
    with pytest.raises(RuleInputError) as error:
        load_repeat_policies()
    assert error.value.problems == ["repeat_policies.yaml: policies/0/window_days: 0 is less than the minimum of 1"]


def test_schema_errors_at_the_root_say_root(policies_file):
    policies_file.write_text("version: 1\ndefault: a\n")
    with pytest.raises(RuleInputError) as error:
        load_repeat_policies()
    assert error.value.problems == ["repeat_policies.yaml: (root): 'policies' is a required property"]


def test_an_unknown_policy_id_names_every_known_one():
    with pytest.raises(RuleInputError) as error:
        repeat_policies.get_repeat_policy("aetna")
    assert error.value.problems == ["unknown repeat policy 'aetna'; allowed: bcbs_style, evicore, medicare_lcd"]


def test_planned_regions_that_are_not_a_collection_are_an_input_problem_not_a_crash():
    from datetime import date

    from triggerpoint.core.rules import RuleInputError
    from triggerpoint.outcomes.repeat import evaluate_repeat

    with pytest.raises(RuleInputError, match=r"must be a set of body regions, got 5"):
        evaluate_repeat([], date(2026, 12, 1), 5)
