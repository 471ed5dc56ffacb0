"""ASM-FM-ACR2016 (Wolfe et al. 2016) at every boundary of its three conditions."""

from dataclasses import replace

import pytest

from triggerpoint.assessment.fibromyalgia import (
    ACR_2016_RULE,
    FIBROMYALGIA_MESSAGE,
    Acr2016Thresholds,
    FibromyalgiaSymptoms,
    load_wpi_map,
    score_acr_2016,
)
from triggerpoint.core.rules import RuleInputError

# One counted area in each of the five regions, then more areas in the same regions,
# so the WPI can grow without changing how many regions hurt.
ONE_PER_REGION = ["shoulder_girdle_left", "shoulder_girdle_right", "hip_left", "hip_right", "neck"]
MORE_AREAS = [
    "upper_arm_left",
    "upper_arm_right",
    "upper_leg_left",
    "upper_leg_right",
    "upper_back",
    "lower_back",
]


def symptoms(wpi: int, sss: int, months: int = 6, areas: list[str] | None = None) -> FibromyalgiaSymptoms:
    """A patient with `wpi` painful areas (all five regions once wpi ≥ 5) and an SSS of `sss`."""
    chosen = areas if areas is not None else (ONE_PER_REGION + MORE_AREAS)[:wpi]
    assert len(chosen) == wpi
    severity = [min(3, max(0, sss - 3 * i)) for i in range(3)]  # fill fatigue, waking, cognition
    extra = sss - sum(severity)
    return FibromyalgiaSymptoms(
        painful_areas=frozenset(chosen),
        fatigue=severity[0],
        waking_unrefreshed=severity[1],
        cognitive_symptoms=severity[2],
        headaches=extra >= 1,
        lower_abdominal_pain_or_cramps=extra >= 2,
        depression=extra >= 3,
        symptom_months=months,
    )


def test_the_helper_builds_the_scores_it_is_asked_for():
    result = score_acr_2016(symptoms(11, 12))
    assert (result.wpi, result.sss, result.fibromyalgia_severity) == (11, 12, 23)


@pytest.mark.parametrize(
    ("wpi", "sss", "met"), [(7, 5, True), (6, 5, False), (7, 4, False), (19 - 8, 5, True)]
)
def test_wpi_7_or_more_needs_sss_5_or_more(wpi, sss, met):
    assert score_acr_2016(symptoms(wpi, sss)).wpi_sss_met is met


@pytest.mark.parametrize(("wpi", "sss", "met"), [(6, 9, True), (6, 8, False), (5, 9, True)])
def test_wpi_4_to_6_needs_sss_9_or_more(wpi, sss, met):
    assert score_acr_2016(symptoms(wpi, sss)).wpi_sss_met is met


@pytest.mark.parametrize(("wpi", "met"), [(4, True), (3, False)])
def test_wpi_below_4_never_meets_the_criteria_even_with_the_highest_sss(wpi, met):
    areas = ONE_PER_REGION[:wpi]
    result = score_acr_2016(symptoms(wpi, 12, areas=areas))
    assert result.wpi_sss_met is met


def test_criteria_are_met_when_all_three_conditions_hold_and_the_clinician_is_told_about_trigger_points():
    result = score_acr_2016(symptoms(7, 5))
    assert result.criteria_met is True
    assert result.clinician_message == FIBROMYALGIA_MESSAGE
    assert "trigger point" in result.clinician_message
    assert "different condition" in result.clinician_message
    assert result.findings[0].rule == ACR_2016_RULE.id
    assert result.findings[0].severity == "review"


def test_no_clinician_message_when_the_criteria_are_not_met():
    result = score_acr_2016(symptoms(6, 5))
    assert result.criteria_met is False
    assert result.clinician_message is None
    assert "WPI/SSS" in result.findings[0].message


@pytest.mark.parametrize(("regions", "met"), [(4, True), (3, False)])
def test_generalised_pain_needs_4_of_5_regions(regions, met):
    # Seven painful areas packed into `regions` regions.
    packs = {
        4: [
            "shoulder_girdle_left",
            "upper_arm_left",
            "lower_arm_left",
            "shoulder_girdle_right",
            "hip_left",
            "neck",
            "upper_back",
        ],
        3: [
            "shoulder_girdle_left",
            "upper_arm_left",
            "lower_arm_left",
            "shoulder_girdle_right",
            "neck",
            "upper_back",
            "lower_back",
        ],
    }
    result = score_acr_2016(symptoms(7, 6, areas=packs[regions]))
    assert len(result.painful_regions) == regions
    assert result.generalised_pain is met
    assert result.criteria_met is met


def test_jaw_chest_and_abdomen_do_not_count_for_generalised_pain():
    # Jaw is the only pain in both upper regions, chest and abdomen the only axial pain:
    # WPI and SSS are high enough, but only the two lower regions count.
    areas = ["jaw_left", "jaw_right", "chest", "abdomen", "hip_left", "upper_leg_left", "hip_right"]
    result = score_acr_2016(symptoms(7, 12, areas=areas))
    assert result.wpi == 7
    assert result.wpi_sss_met is True
    assert result.painful_regions == ("left_lower", "right_lower")
    assert result.criteria_met is False


def test_jaw_chest_and_abdomen_still_count_in_the_widespread_pain_index():
    result = score_acr_2016(symptoms(3, 0, areas=["jaw_left", "chest", "abdomen"]))
    assert result.wpi == 3


@pytest.mark.parametrize(("months", "met"), [(3, True), (2, False)])
def test_symptoms_must_have_lasted_3_months(months, met):
    result = score_acr_2016(symptoms(7, 5, months=months))
    assert result.duration_met is met
    assert result.criteria_met is met


def test_each_somatic_symptom_adds_one_point():
    base = symptoms(7, 0)
    assert score_acr_2016(replace(base, headaches=True)).sss == 1
    assert (
        score_acr_2016(
            replace(base, headaches=True, depression=True, lower_abdominal_pain_or_cramps=True)
        ).sss
        == 3
    )


def test_a_clinic_may_use_the_2010_wpi_floor_of_3():
    assert score_acr_2016(symptoms(3, 9, areas=ONE_PER_REGION[:3])).wpi_sss_met is False
    thresholds = Acr2016Thresholds(wpi_mid_min=3)
    assert score_acr_2016(symptoms(3, 9, areas=ONE_PER_REGION[:3]), thresholds).wpi_sss_met is True


def test_it_lists_every_problem_with_the_answers():
    bad = FibromyalgiaSymptoms(
        painful_areas=frozenset({"neck", "left_elbow"}),
        fatigue=4,
        waking_unrefreshed=-1,
        cognitive_symptoms=True,
        headaches="yes",
        lower_abdominal_pain_or_cramps=False,
        depression=None,
        symptom_months=-2,
    )
    with pytest.raises(RuleInputError) as error:
        score_acr_2016(bad)
    assert len(error.value.problems) == 7
    assert "left_elbow" in str(error.value)


def test_the_map_defines_19_areas_in_5_regions_as_in_the_2016_paper():
    wpi_map = load_wpi_map()
    assert len(wpi_map.areas) == 19
    per_region = {
        region: sorted(a.id for a in wpi_map.areas.values() if a.region == region)
        for region in wpi_map.regions
    }
    assert {region: len(areas) for region, areas in per_region.items()} == {
        "left_upper": 4,
        "right_upper": 4,
        "left_lower": 3,
        "right_lower": 3,
        "axial": 5,
    }
    excluded = sorted(a.id for a in wpi_map.areas.values() if not a.counts_for_generalised_pain)
    assert excluded == ["abdomen", "chest", "jaw_left", "jaw_right"]
    assert "jaw_left" in per_region["left_upper"] and "jaw_right" in per_region["right_upper"]
    assert {"chest", "abdomen"} <= set(per_region["axial"])
