"""Specification of the repeat-injection rule, at both sides of every boundary."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import jsonschema
import pytest
import yaml

from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes.repeat import (
    BODY_REGIONS,
    INFO,
    MET,
    NOT_MET,
    PriorSession,
    evaluate_repeat,
    repeat_rules,
)
from triggerpoint.outcomes.repeat_policies import (
    POLICIES_PATH,
    POLICIES_SCHEMA_PATH,
    RepeatPolicy,
    get_repeat_policy,
    load_repeat_policies,
)

PLANNED = date(2027, 3, 1)


def session(
    days_before: int,
    regions: tuple[str, ...] = ("lumbar",),
    relief: float | None = 70,
    duration: int | None = 60,
    function: float | None = 60,
) -> PriorSession:
    return PriorSession(
        date=PLANNED - timedelta(days=days_before),
        body_regions=frozenset(regions),
        muscles=frozenset({"quadratus_lumborum"}),
        relief_percent=relief,
        relief_duration_days=duration,
        functional_improvement_percent=function,
    )


def finding(decision, rule_id, region=None):
    matches = [
        f
        for f in decision.findings
        if f.rule == rule_id and (region is None or f.data.get("region") == region)
    ]
    assert len(matches) == 1, [f.rule for f in decision.findings]
    return matches[0]


# --------------------------------------------------------------------------- presets


def test_the_policy_presets_validate_against_their_schema():
    schema = json.loads(POLICIES_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(
        yaml.safe_load(POLICIES_PATH.read_text(encoding="utf-8"))
    )


def test_it_ships_medicare_evicore_and_bcbs_style_presets_with_sources():
    policies = load_repeat_policies()
    assert set(policies) == {"medicare_lcd", "evicore", "bcbs_style"}
    assert all(p.sources and p.notes for p in policies.values())
    assert policies["evicore"].max_sessions_per_region_per_year == 4
    assert policies["bcbs_style"].max_sessions_per_12_months == 4


def test_the_medicare_preset_is_the_default_threshold_table():
    preset = get_repeat_policy("medicare_lcd")
    assert dataclasses.replace(preset, notes="") == RepeatPolicy()


def test_it_refuses_an_unknown_policy_and_names_the_known_ones():
    with pytest.raises(RuleInputError, match="allowed: bcbs_style, evicore, medicare_lcd"):
        get_repeat_policy("aetna")


def test_every_rule_has_a_basis_naming_the_policy_and_its_sources():
    for rule in repeat_rules(get_repeat_policy("evicore")).values():
        assert "eviCore" in rule.basis and rule.sources and rule.version == 1


# --------------------------------------------------------------------------- the eligible case and first injections


def test_a_well_documented_repeat_within_the_limits_is_eligible():
    decision = evaluate_repeat([session(120), session(60)], PLANNED, {"lumbar"})
    assert decision.eligible
    assert {f.rule for f in decision.findings} == {
        "RPT-RELIEF-50",
        "RPT-RELIEF-6W",
        "RPT-FUNCTION-50",
        "RPT-INTERVAL-6W",
        "RPT-MAX-3-12M",
    }
    assert all(f.severity == MET for f in decision.findings)
    assert decision.as_dict()["policy"] == "medicare_lcd"


def test_a_first_injection_needs_no_documented_relief():
    decision = evaluate_repeat([], PLANNED, {"cervical"})
    assert decision.eligible
    assert finding(decision, "RPT-FIRST-IN-REGION").severity == INFO


def test_relief_is_read_from_the_last_session_in_the_planned_region():
    history = [session(100, ("cervical",), relief=80), session(50, ("lumbar",), relief=None)]
    decision = evaluate_repeat(history, PLANNED, {"cervical"})
    relief = finding(decision, "RPT-RELIEF-50")
    assert relief.severity == MET
    assert (
        relief.message
        == f"last session in the cervical region on {PLANNED - timedelta(days=100)}: 80% relief documented"
    )


# --------------------------------------------------------------------------- relief, duration, function


@pytest.mark.parametrize(("relief", "severity"), [(49, NOT_MET), (49.9, NOT_MET), (50, MET), (51, MET)])
def test_relief_must_be_at_least_fifty_percent(relief, severity):
    decision = evaluate_repeat([session(60, relief=relief)], PLANNED, {"lumbar"})
    assert finding(decision, "RPT-RELIEF-50").severity == severity
    assert decision.eligible is (severity == MET)


def test_undocumented_relief_fails_with_a_message_rather_than_passing():
    decision = evaluate_repeat([session(60, relief=None)], PLANNED, {"lumbar"})
    relief = finding(decision, "RPT-RELIEF-50")
    assert relief.severity == NOT_MET
    assert "no percent relief documented" in relief.message and "at least 50%" in relief.message
    assert not decision.eligible


@pytest.mark.parametrize(("days", "severity"), [(41, NOT_MET), (42, MET)])
def test_relief_must_have_lasted_six_weeks(days, severity):
    decision = evaluate_repeat([session(60, duration=days)], PLANNED, {"lumbar"})
    assert finding(decision, "RPT-RELIEF-6W").severity == severity


def test_undocumented_duration_fails():
    decision = evaluate_repeat([session(60, duration=None)], PLANNED, {"lumbar"})
    assert finding(decision, "RPT-RELIEF-6W").severity == NOT_MET
    assert "not documented" in finding(decision, "RPT-RELIEF-6W").message


def test_the_duration_rule_can_be_turned_off():
    policy = RepeatPolicy(min_relief_duration_weeks=None)
    decision = evaluate_repeat([session(60, duration=None)], PLANNED, {"lumbar"}, policy)
    assert decision.eligible
    assert "RPT-RELIEF-6W" not in {f.rule for f in decision.findings}


@pytest.mark.parametrize(("function", "severity"), [(49, NOT_MET), (50, MET), (None, NOT_MET)])
def test_functional_improvement_must_be_at_least_fifty_percent(function, severity):
    decision = evaluate_repeat([session(60, function=function)], PLANNED, {"lumbar"})
    assert finding(decision, "RPT-FUNCTION-50").severity == severity


def test_the_functional_rule_can_be_turned_off():
    policy = RepeatPolicy(min_functional_improvement_percent=None)
    decision = evaluate_repeat([session(60, function=None)], PLANNED, {"lumbar"}, policy)
    assert decision.eligible


# --------------------------------------------------------------------------- interval in the same region


@pytest.mark.parametrize(("days", "severity"), [(41, NOT_MET), (42, MET)])
def test_the_same_region_needs_six_weeks_between_sessions(days, severity):
    decision = evaluate_repeat([session(days)], PLANNED, {"lumbar"})
    interval = finding(decision, "RPT-INTERVAL-6W", "lumbar")
    assert interval.severity == severity
    assert interval.data["earliest_date"] == (PLANNED - timedelta(days=days) + timedelta(days=42)).isoformat()


def test_the_interval_message_says_how_long_and_how_long_is_required():
    decision = evaluate_repeat([session(38)], PLANNED, {"lumbar"})
    message = finding(decision, "RPT-INTERVAL-6W", "lumbar").message
    assert message == (
        f"only 38 days since the lumbar region was treated on {PLANNED - timedelta(days=38)}; policy requires 42"
    )


def test_a_recent_session_in_another_region_does_not_shorten_the_interval():
    history = [session(90, ("lumbar",)), session(10, ("cervical",))]
    decision = evaluate_repeat(history, PLANNED, {"lumbar"})
    assert finding(decision, "RPT-INTERVAL-6W", "lumbar").data["days_since"] == 90
    assert decision.eligible


def test_each_planned_region_is_checked_separately():
    history = [session(90, ("lumbar",)), session(20, ("cervical",))]
    decision = evaluate_repeat(history, PLANNED, {"lumbar", "cervical"})
    assert finding(decision, "RPT-INTERVAL-6W", "lumbar").severity == MET
    assert finding(decision, "RPT-INTERVAL-6W", "cervical").severity == NOT_MET
    assert not decision.eligible


# --------------------------------------------------------------------------- sessions in a rolling 12 months


def test_the_planned_session_may_be_the_third_in_twelve_months():
    decision = evaluate_repeat([session(200), session(100)], PLANNED, {"lumbar"})
    limit = finding(decision, "RPT-MAX-3-12M")
    assert limit.severity == MET and limit.data["session_number"] == 3


def test_the_planned_session_may_not_be_the_fourth_in_twelve_months():
    decision = evaluate_repeat([session(300), session(200), session(100)], PLANNED, {"lumbar"})
    limit = finding(decision, "RPT-MAX-3-12M")
    assert limit.severity == NOT_MET and limit.data["session_number"] == 4
    assert "would be the 4th" in limit.message and "policy allows 3" in limit.message
    assert not decision.eligible


@pytest.mark.parametrize(("oldest_days_before", "severity"), [(365, NOT_MET), (366, MET)])
def test_a_session_365_days_before_counts_and_one_366_days_before_does_not(oldest_days_before, severity):
    decision = evaluate_repeat([session(oldest_days_before), session(200), session(100)], PLANNED, {"lumbar"})
    assert finding(decision, "RPT-MAX-3-12M").severity == severity


def test_sessions_in_every_region_count_toward_the_twelve_month_limit():
    history = [session(300, ("cervical",)), session(200, ("thoracic",)), session(100, ("lumbar",))]
    assert finding(evaluate_repeat(history, PLANNED, {"lumbar"}), "RPT-MAX-3-12M").severity == NOT_MET


# --------------------------------------------------------------------------- payer presets


def test_evicore_allows_four_sessions_per_region_per_year_but_not_five():
    evicore = get_repeat_policy("evicore")
    three = [session(300), session(200), session(100)]
    assert (
        finding(evaluate_repeat(three, PLANNED, {"lumbar"}, evicore), "RPT-MAX-REGION-YEAR").severity == MET
    )
    four = [session(350), *three]
    decision = evaluate_repeat(four, PLANNED, {"lumbar"}, evicore)
    assert finding(decision, "RPT-MAX-REGION-YEAR", "lumbar").severity == NOT_MET
    assert "RPT-MAX-3-12M" not in {f.rule for f in decision.findings}


def test_evicore_counts_only_the_planned_region_toward_its_regional_limit():
    evicore = get_repeat_policy("evicore")
    history = [session(350, ("cervical",)), session(300, ("cervical",)), session(200), session(100)]
    assert evaluate_repeat(history, PLANNED, {"lumbar"}, evicore).eligible


@pytest.mark.parametrize(("days", "severity"), [(62, NOT_MET), (63, MET)])
def test_evicore_reads_two_months_as_nine_weeks(days, severity):
    decision = evaluate_repeat([session(days)], PLANNED, {"lumbar"}, get_repeat_policy("evicore"))
    assert finding(decision, "RPT-INTERVAL-6W", "lumbar").severity == severity


def test_bcbs_style_allows_a_fourth_session_but_not_a_fifth():
    bcbs = get_repeat_policy("bcbs_style")
    three = [session(300), session(200), session(100)]
    assert evaluate_repeat(three, PLANNED, {"lumbar"}, bcbs).eligible
    assert not evaluate_repeat([session(350), *three], PLANNED, {"lumbar"}, bcbs).eligible


def test_a_clinic_can_override_one_threshold():
    strict = dataclasses.replace(RepeatPolicy(), id="clinic_strict", min_relief_percent=70)
    decision = evaluate_repeat([session(60, relief=60)], PLANNED, {"lumbar"}, strict)
    assert finding(decision, "RPT-RELIEF-50").severity == NOT_MET
    assert "at least 70%" in finding(decision, "RPT-RELIEF-50").basis


# --------------------------------------------------------------------------- bad input


def test_it_lists_every_input_problem_at_once():
    history = [
        PriorSession(PLANNED, frozenset({"lumbar"})),
        PriorSession(PLANNED - timedelta(days=10), frozenset({"neck"}), relief_percent=120),
        PriorSession(PLANNED - timedelta(days=10), frozenset(), relief_duration_days=-1),
    ]
    with pytest.raises(RuleInputError) as error:
        evaluate_repeat(history, PLANNED, {"lumbar", "back"})
    text = str(error.value)
    for expected in (
        "planned_body_regions has unknown body regions back",
        "is not before the planned date",
        "unknown body regions neck",
        "relief_percent must be",
        "names no body region",
        "relief_duration_days must be",
        "more than one history session",
    ):
        assert expected in text
    assert ", ".join(BODY_REGIONS) in text


def test_a_region_given_as_a_bare_string_is_refused():
    with pytest.raises(RuleInputError, match="must be a set of body regions"):
        evaluate_repeat([], PLANNED, "lumbar")
