"""ASM-TRP-CLASSIFY and ASM-TRP-LCD-DOC: each criterion on both sides of its boundary."""

from dataclasses import replace
from itertools import product

import pytest

from triggerpoint.assessment.exam import (
    CLASSIFY_RULE,
    LCD_DOCUMENTATION_RULE,
    ExamFinding,
    TriggerPointCriteria,
    TriggerPointStatus,
    classify_exam,
    classify_trigger_point,
)
from triggerpoint.assessment.schemas import parse_exam_finding
from triggerpoint.core.rules import RuleInputError

ACTIVE = ExamFinding(
    muscle="upper_trapezius",
    side="left",
    taut_band=True,
    tender_spot=True,
    recognised_pain=True,
    spontaneous_pain=True,
    local_twitch_response=False,
    jump_sign=False,
    focal_nodule=True,
    referred_pain_zones=frozenset(),
    pressure_pain_threshold_kg_cm2=None,
)
NOTHING = replace(
    ACTIVE,
    taut_band=False,
    tender_spot=False,
    recognised_pain=False,
    spontaneous_pain=False,
    focal_nodule=False,
)


def test_it_calls_a_trigger_point_active_when_band_spot_and_recognised_pain_are_present():
    result = classify_trigger_point(ACTIVE)
    assert result.status is TriggerPointStatus.ACTIVE
    assert result.missing_for_active == ()
    assert result.findings[0].rule == CLASSIFY_RULE.id
    assert "active" in result.findings[0].message


def test_the_rule_is_version_2_since_spontaneous_pain_stopped_being_required():
    assert (CLASSIFY_RULE.id, CLASSIFY_RULE.version) == ("ASM-TRP-CLASSIFY", 2)
    assert "familiar pain" in CLASSIFY_RULE.basis


def test_a_recognised_twitching_point_without_the_spontaneous_pain_tick_is_active():
    """The case that version 1 got wrong: the patient says "that's my pain", the muscle twitches."""
    result = classify_trigger_point(
        replace(ACTIVE, spontaneous_pain=False, local_twitch_response=True)
    )
    assert result.status is TriggerPointStatus.ACTIVE
    assert result.missing_for_active == ()
    assert "spontaneous pain" not in result.findings[0].message


def test_it_calls_a_trigger_point_latent_when_the_patient_does_not_recognise_the_pain():
    result = classify_trigger_point(replace(ACTIVE, recognised_pain=False))
    assert result.status is TriggerPointStatus.LATENT
    assert result.missing_for_active == ("recognised_pain",)
    assert "without patient recognises the provoked pain" in result.findings[0].message


def test_spontaneous_pain_without_recognition_does_not_make_a_point_active():
    result = classify_trigger_point(replace(ACTIVE, recognised_pain=False, spontaneous_pain=True))
    assert result.status is TriggerPointStatus.LATENT


def test_spontaneous_pain_is_listed_as_supporting_when_ticked():
    assert "spontaneous_pain" in classify_trigger_point(ACTIVE).supporting_findings
    assert "spontaneous_pain" not in classify_trigger_point(
        replace(ACTIVE, spontaneous_pain=False)
    ).supporting_findings


def test_a_clinic_may_still_require_spontaneous_pain_as_well():
    strict = TriggerPointCriteria(required_for_active=("recognised_pain", "spontaneous_pain"))
    result = classify_trigger_point(replace(ACTIVE, spontaneous_pain=False), strict)
    assert result.status is TriggerPointStatus.LATENT
    assert result.missing_for_active == ("spontaneous_pain",)


def test_it_calls_a_band_with_a_tender_spot_latent_when_the_patient_has_no_pain_from_it():
    result = classify_trigger_point(replace(ACTIVE, recognised_pain=False, spontaneous_pain=False))
    assert result.status is TriggerPointStatus.LATENT


@pytest.mark.parametrize("missing", ["taut_band", "tender_spot"])
def test_it_finds_no_trigger_point_without_a_taut_band_or_a_tender_spot(missing):
    result = classify_trigger_point(replace(ACTIVE, **{missing: False}))
    assert result.status is TriggerPointStatus.NOT_TRIGGER_POINT
    assert result.missing_for_trigger_point == (missing,)


def test_it_names_a_tender_spot_without_a_band_as_a_tender_point():
    result = classify_trigger_point(replace(ACTIVE, taut_band=False))
    assert "tender point" in result.findings[0].message


def test_supporting_findings_alone_never_make_a_trigger_point():
    result = classify_trigger_point(
        replace(
            NOTHING,
            local_twitch_response=True,
            jump_sign=True,
            referred_pain_zones=frozenset({"temple-l"}),
            pressure_pain_threshold_kg_cm2=1.0,
        )
    )
    assert result.status is TriggerPointStatus.NOT_TRIGGER_POINT
    assert set(result.supporting_findings) == {
        "local_twitch_response",
        "jump_sign",
        "referred_pain_reproduced",
        "low_pressure_pain_threshold",
    }


@pytest.mark.parametrize(("ppt", "supports"), [(4.0, True), (4.01, False), (0.5, True), (20.0, False)])
def test_a_pressure_pain_threshold_supports_only_at_or_below_4_kg_per_cm2(ppt, supports):
    result = classify_trigger_point(replace(ACTIVE, pressure_pain_threshold_kg_cm2=ppt))
    assert ("low_pressure_pain_threshold" in result.supporting_findings) is supports


def test_a_clinic_may_lower_the_supporting_pressure_threshold():
    criteria = TriggerPointCriteria(ppt_supporting_at_or_below_kg_cm2=3.0)
    result = classify_trigger_point(replace(ACTIVE, pressure_pain_threshold_kg_cm2=3.5), criteria)
    assert "low_pressure_pain_threshold" not in result.supporting_findings


def test_it_reports_which_referred_zones_match_the_atlas_pattern():
    result = classify_trigger_point(replace(ACTIVE, referred_pain_zones=frozenset({"temple-l", "big-toe-r"})))
    assert result.referred_zones_in_atlas_pattern == frozenset({"temple-l"})


# --- ASM-TRP-LCD-DOC ---------------------------------------------------------------


def test_lcd_documentation_is_met_with_two_findings_and_a_nodule():
    result = classify_trigger_point(replace(NOTHING, taut_band=True, tender_spot=True, focal_nodule=True))
    assert result.meets_lcd_documentation is True
    assert result.findings[1].rule == LCD_DOCUMENTATION_RULE.id
    assert result.findings[1].severity == "info"


@pytest.mark.parametrize(
    "single",
    [
        {"taut_band": True},
        {"tender_spot": True},
        {"local_twitch_response": True},
        {"referred_pain_zones": frozenset({"temple-l"})},
    ],
)
def test_lcd_documentation_is_not_met_with_one_finding_and_a_nodule(single):
    result = classify_trigger_point(replace(NOTHING, focal_nodule=True, **single))
    assert result.meets_lcd_documentation is False
    assert len(result.lcd_findings_present) == 1
    assert result.findings[1].severity == "review"


def test_lcd_documentation_counts_twitch_response_and_referred_pain_as_findings():
    result = classify_trigger_point(
        replace(
            NOTHING,
            local_twitch_response=True,
            referred_pain_zones=frozenset({"temple-l"}),
            focal_nodule=True,
        )
    )
    assert result.meets_lcd_documentation is True
    assert result.lcd_findings_present == ("local_twitch_response", "referred_pain_reproduced")


def test_lcd_documentation_is_not_met_without_a_focal_nodule():
    result = classify_trigger_point(replace(ACTIVE, focal_nodule=False, local_twitch_response=True))
    assert result.status is TriggerPointStatus.ACTIVE
    assert result.meets_lcd_documentation is False
    assert "nodule" in result.findings[1].message


def test_the_jump_sign_does_not_count_towards_lcd_documentation():
    result = classify_trigger_point(replace(NOTHING, taut_band=True, jump_sign=True, focal_nodule=True))
    assert result.meets_lcd_documentation is False


def test_a_payer_may_ask_for_three_findings():
    criteria = TriggerPointCriteria(lcd_min_findings=3)
    two = replace(NOTHING, taut_band=True, tender_spot=True, focal_nodule=True)
    assert classify_trigger_point(two, criteria).meets_lcd_documentation is False
    assert (
        classify_trigger_point(replace(two, local_twitch_response=True), criteria).meets_lcd_documentation
        is True
    )


# --- input validation --------------------------------------------------------------------


def test_it_lists_every_problem_with_a_finding_at_once():
    bad = replace(
        ACTIVE,
        muscle="no_such_muscle",
        side="both",
        taut_band=None,
        referred_pain_zones=frozenset({"temple-l", "moon"}),
        pressure_pain_threshold_kg_cm2=-1.0,
    )
    with pytest.raises(RuleInputError) as error:
        classify_trigger_point(bad)
    text = str(error.value)
    assert len(error.value.problems) == 5
    for expected in ("no_such_muscle", "side", "taut_band", "moon", "pressure_pain_threshold"):
        assert expected in text


@pytest.mark.parametrize("ppt", [0.0, -0.1, 20.01, 45.0, True, "3"])
def test_it_refuses_an_implausible_pressure_pain_threshold(ppt):
    with pytest.raises(RuleInputError, match="pressure_pain_threshold"):
        classify_trigger_point(replace(ACTIVE, pressure_pain_threshold_kg_cm2=ppt))


@pytest.mark.parametrize("ppt", [0.1, 20.0])
def test_it_accepts_a_pressure_pain_threshold_within_the_plausible_range(ppt):
    assert (
        classify_trigger_point(replace(ACTIVE, pressure_pain_threshold_kg_cm2=ppt)).status
        is TriggerPointStatus.ACTIVE
    )


def test_it_builds_a_finding_from_form_data_and_reports_missing_and_unknown_fields():
    with pytest.raises(RuleInputError) as error:
        parse_exam_finding({"muscle": "upper_trapezius", "side": "left", "colour": "red"})
    problems = error.value.problems
    assert "missing field: taut_band" in problems
    assert any(problem.startswith("unknown field: colour") for problem in problems)
    assert "missing field: pressure_pain_threshold_kg_cm2" not in problems


def test_a_finding_from_form_data_classifies_like_the_dataclass():
    data = {name: getattr(ACTIVE, name) for name in ACTIVE.__dataclass_fields__}
    data["referred_pain_zones"] = ["temple-l"]
    finding = parse_exam_finding(data)
    assert finding.referred_pain_zones == frozenset({"temple-l"})
    assert classify_trigger_point(finding).status is TriggerPointStatus.ACTIVE


def test_an_exam_refuses_the_same_muscle_and_side_twice_and_keeps_other_problems():
    with pytest.raises(RuleInputError) as error:
        classify_exam([ACTIVE, ACTIVE, replace(ACTIVE, side="up")])
    text = str(error.value)
    assert "finding 2: upper_trapezius (left) is recorded twice" in text
    assert "finding 3: side" in text


def test_an_exam_classifies_both_sides_of_a_muscle():
    results = classify_exam([ACTIVE, replace(ACTIVE, side="right", recognised_pain=False)])
    assert [r.status for r in results] == [TriggerPointStatus.ACTIVE, TriggerPointStatus.LATENT]


def test_criteria_naming_an_unknown_finding_are_refused():
    with pytest.raises(RuleInputError, match="unknown finding"):
        TriggerPointCriteria(required_for_active=("telepathy",))


def test_only_band_spot_and_recognition_decide_the_status_in_every_combination():
    names = (
        "taut_band",
        "tender_spot",
        "recognised_pain",
        "spontaneous_pain",
        "local_twitch_response",
        "jump_sign",
        "focal_nodule",
    )
    for values in product((False, True), repeat=len(names)):
        finding = replace(ACTIVE, **dict(zip(names, values, strict=True)))
        band, spot, recognised = values[:3]
        expected = (
            TriggerPointStatus.NOT_TRIGGER_POINT
            if not (band and spot)
            else TriggerPointStatus.ACTIVE
            if recognised
            else TriggerPointStatus.LATENT
        )
        assert classify_trigger_point(finding).status is expected, values
