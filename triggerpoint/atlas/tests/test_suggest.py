"""ATL-SUGGEST: validation, explanations and properties of the pain-drawing scorer (pure)."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggerpoint.atlas.catalog import build_atlas, load_atlas, read_zones_document
from triggerpoint.atlas.evaluation import TOP1_BAR, TOP3_BAR, evaluate, load_cases
from triggerpoint.atlas.suggest import (
    DEFAULT_WEIGHTS,
    SUGGEST_RULE,
    SuggestWeights,
    muscle_score,
    rank,
    suggest,
    validate_drawing,
)
from triggerpoint.core.rules import RuleInputError

ATLAS = load_atlas()
ZONE_IDS = sorted(ATLAS.zone_ids)
LEFT_ONLY_ZONES = sorted(z.id for z in ATLAS.zones.values() if z.side in ("left", "midline"))
MUSCLE_SIDES = [(muscle_id, side) for muscle_id in sorted(ATLAS.muscles) for side in ("left", "right")]

intensities = st.integers(min_value=1, max_value=10)
drawings = st.dictionaries(st.sampled_from(ZONE_IDS), intensities, min_size=1, max_size=12)
left_drawings = st.dictionaries(st.sampled_from(LEFT_ONLY_ZONES), intensities, min_size=1, max_size=12)


def request(*pairs, limit=None):
    payload = {"zones": [{"zone": zone, "intensity": intensity} for zone, intensity in pairs]}
    if limit is not None:
        payload["limit"] = limit
    return payload


# --- the rule describes itself -----------------------------------------------------------------


def test_the_rule_has_a_stable_id_a_version_and_a_basis_with_sources():
    assert SUGGEST_RULE.id == "ATL-SUGGEST"
    assert SUGGEST_RULE.version >= 1
    assert "Travell" in SUGGEST_RULE.basis_text()


def test_weights_are_one_frozen_table():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_WEIGHTS.essential = 2.0  # type: ignore[misc]
    assert DEFAULT_WEIGHTS.essential > DEFAULT_WEIGHTS.spillover > 0


# --- validation --------------------------------------------------------------------------------


def test_it_accepts_a_well_formed_request_and_defaults_the_limit():
    drawing = validate_drawing(request(("temple-l", 7), ("neck-side-l", 0)), ATLAS)
    assert dict(drawing.zones) == {"temple-l": 7, "neck-side-l": 0}
    assert drawing.limit == DEFAULT_WEIGHTS.default_limit


def test_it_rejects_unknown_zone_ids_and_lists_the_allowed_values():
    with pytest.raises(RuleInputError) as error:
        validate_drawing(request(("temple-x", 5), ("elbow", 3)), ATLAS)
    [problem] = error.value.problems
    assert "elbow, temple-x" in problem
    assert "allowed values" in problem and "temple-l" in problem


@pytest.mark.parametrize("intensity", [0, 10])
def test_it_accepts_intensities_at_both_ends_of_the_scale(intensity):
    validate_drawing(request(("temple-l", intensity), ("temple-r", 5)), ATLAS)


@pytest.mark.parametrize("intensity", [-1, 11])
def test_it_rejects_intensities_just_outside_the_scale(intensity):
    with pytest.raises(RuleInputError, match="outside 0–10"):
        validate_drawing(request(("temple-l", intensity)), ATLAS)


@pytest.mark.parametrize("intensity", [5.5, 5.0, "5", True, None])
def test_it_rejects_intensities_that_are_not_whole_numbers(intensity):
    with pytest.raises(RuleInputError, match="whole number"):
        validate_drawing(request(("temple-l", intensity)), ATLAS)


def test_it_rejects_an_empty_drawing():
    with pytest.raises(RuleInputError, match="empty"):
        validate_drawing({"zones": []}, ATLAS)


def test_it_rejects_a_missing_zones_field():
    with pytest.raises(RuleInputError, match="zones is required"):
        validate_drawing({"limit": 5}, ATLAS)


def test_it_rejects_a_drawing_that_marks_no_pain():
    with pytest.raises(RuleInputError, match="no pain"):
        validate_drawing(request(("temple-l", 0), ("temple-r", 0)), ATLAS)


def test_it_rejects_a_zone_drawn_twice():
    with pytest.raises(RuleInputError, match="more than once: temple-l"):
        validate_drawing(request(("temple-l", 3), ("temple-l", 5)), ATLAS)


def test_it_rejects_more_zones_than_the_body_map_has():
    rows = [(zone, 1) for zone in ZONE_IDS] + [("temple-l", 2)]
    with pytest.raises(RuleInputError, match="too many zones: 148"):
        validate_drawing(request(*rows), ATLAS)


def test_it_accepts_every_zone_of_the_body_map_once():
    assert len(validate_drawing(request(*[(zone, 1) for zone in ZONE_IDS]), ATLAS).zones) == 147


@pytest.mark.parametrize("limit", [1, 20])
def test_it_accepts_limits_at_both_ends(limit):
    assert validate_drawing(request(("temple-l", 5), limit=limit), ATLAS).limit == limit


@pytest.mark.parametrize("limit", [0, 21, "5", 2.0])
def test_it_rejects_limits_outside_1_to_20(limit):
    with pytest.raises(RuleInputError, match="limit"):
        validate_drawing(request(("temple-l", 5), limit=limit), ATLAS)


def test_it_reports_every_problem_at_once():
    with pytest.raises(RuleInputError) as error:
        validate_drawing(request(("nowhere", 5), ("temple-l", 12), ("temple-r", 2.5), limit=0), ATLAS)
    assert len(error.value.problems) == 4


def test_suggest_itself_refuses_unknown_zones_and_bad_intensities():
    with pytest.raises(RuleInputError) as error:
        suggest({"nowhere": 5, "temple-l": 11}, ATLAS)
    assert len(error.value.problems) == 2


@pytest.mark.parametrize("limit", [0, 21])
def test_suggest_refuses_a_limit_outside_the_table(limit):
    with pytest.raises(RuleInputError, match="limit"):
        suggest({"temple-l": 5}, ATLAS, limit=limit)


# --- behaviour ---------------------------------------------------------------------------------


def test_a_classic_upper_trapezius_drawing_suggests_the_upper_trapezius_on_that_side():
    [best, *_] = suggest({"neck-side-r": 8, "temple-r": 6, "occiput-r": 4}, ATLAS)
    assert (best.muscle, best.side) == ("upper_trapezius", "right")
    assert best.matched_zones == ("neck-side-r", "temple-r", "occiput-r")
    assert best.missing_essential == ()
    assert best.name == "Upper trapezius"


def test_it_explains_which_essential_zones_are_missing():
    candidates = rank({"temple-l": 8}, ATLAS)
    trapezius = next(c for c in candidates if (c.muscle, c.side) == ("upper_trapezius", "left"))
    assert trapezius.matched_zones == ("temple-l",)
    assert trapezius.missing_essential == ("neck-side-l",)


def test_zones_drawn_with_no_pain_are_ignored():
    with_zero = suggest({"temple-l": 7, "knee-back-r": 0, "heel-l": 0}, ATLAS, limit=20)
    assert with_zero == suggest({"temple-l": 7}, ATLAS, limit=20)
    assert suggest({"knee-back-r": 0}, ATLAS) == []


def test_it_returns_at_most_limit_candidates_best_first():
    candidates = suggest({"low-back-l": 6, "buttock-upper-l": 5, "sacroiliac-l": 4}, ATLAS, limit=3)
    assert len(candidates) == 3
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_a_muscle_scoring_at_or_below_the_threshold_is_not_listed():
    strict = SuggestWeights(min_score=100.0)
    assert suggest({"temple-l": 10}, ATLAS, weights=strict) == []


def test_ties_are_broken_by_muscle_id_then_side():
    zones = read_zones_document()

    def muscle(muscle_id):
        return {
            "id": muscle_id,
            "name": muscle_id.title(),
            "region": "neck",
            "body_region": "cervical",
            "innervation": "Test nerve",
            "referral": {"essential": ["head-top"], "spillover": []},
            "trigger_points": [{"location": "Here", "palpation": "Press", "zones": ["temple"]}],
            "activities": ["Test"],
            "stretches": [{"id": f"{muscle_id}_s", "name": "Stretch", "instructions": "z" * 40}],
            "injection": {
                "needle_depth": "1 cm",
                "ultrasound_advised": False,
                "pneumothorax_risk": False,
                "non_compressible": False,
                "hazards": [],
            },
            "sources": ["Travell & Simons"],
        }

    atlas = build_atlas(zones, {"version": "t", "muscles": [muscle("zeta"), muscle("alpha")]})
    order = [(c.muscle, c.side) for c in suggest({"head-top": 5}, atlas)]
    assert order == [("alpha", "left"), ("alpha", "right"), ("zeta", "left"), ("zeta", "right")]


def test_overriding_the_weights_changes_the_ranking():
    drawing = {"shoulder-back-l": 5, "upper-arm-back-l": 5, "forearm-back-l": 5}
    no_spillover = SuggestWeights(spillover=0.0)
    assert rank(drawing, ATLAS) != rank(drawing, ATLAS, weights=no_spillover)


def test_muscle_score_matches_the_ranked_score():
    drawing = {"neck-side-l": 8, "temple-l": 6}
    best = suggest(drawing, ATLAS, limit=1)[0]
    assert muscle_score(drawing, ATLAS, best.muscle, best.side) == best.score


def test_muscle_score_rejects_an_unknown_muscle():
    with pytest.raises(KeyError):
        muscle_score({"temple-l": 5}, ATLAS, "not_a_muscle", "left")


def test_candidates_serialise_with_the_api_field_names():
    payload = suggest({"heel-l": 8}, ATLAS, limit=1)[0].as_dict()
    assert {"muscle", "name", "score", "matched_zones"} <= payload.keys()


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(drawing=left_drawings)
def test_a_left_only_drawing_never_ranks_a_right_muscle_above_its_left_twin(drawing):
    order = {(c.muscle, c.side): index for index, c in enumerate(rank(drawing, ATLAS))}
    for (muscle_id, side), index in order.items():
        if side == "right":
            assert (muscle_id, "left") in order and order[(muscle_id, "left")] < index
            assert muscle_score(drawing, ATLAS, muscle_id, "left") >= muscle_score(
                drawing, ATLAS, muscle_id, "right"
            )


@settings(max_examples=200, deadline=None)
@given(drawing=drawings, muscle_side=st.sampled_from(MUSCLE_SIDES), data=st.data())
def test_adding_an_essential_zone_never_lowers_that_muscles_score(drawing, muscle_side, data):
    muscle_id, side = muscle_side
    essential, _ = ATLAS.referred_zones(muscle_id, side)
    added = data.draw(st.sampled_from(sorted(essential)))
    without = {zone: intensity for zone, intensity in drawing.items() if zone != added}
    with_added = {**without, added: data.draw(intensities)}
    assert muscle_score(with_added, ATLAS, muscle_id, side) > muscle_score(without, ATLAS, muscle_id, side)


@settings(max_examples=200, deadline=None)
@given(drawing=drawings, muscle_side=st.sampled_from(MUSCLE_SIDES), data=st.data())
def test_raising_the_intensity_of_a_zone_in_the_pattern_never_lowers_the_score(drawing, muscle_side, data):
    muscle_id, side = muscle_side
    essential, spillover = ATLAS.referred_zones(muscle_id, side)
    zone = data.draw(st.sampled_from(sorted(essential | spillover)))
    low = data.draw(st.integers(min_value=0, max_value=9))
    high = data.draw(st.integers(min_value=low + 1, max_value=10))
    assert muscle_score({**drawing, zone: high}, ATLAS, muscle_id, side) >= muscle_score(
        {**drawing, zone: low}, ATLAS, muscle_id, side
    )


@settings(max_examples=100, deadline=None)
@given(drawing=drawings, seed=st.integers())
def test_the_same_drawing_always_gives_the_same_answer_whatever_the_zone_order(drawing, seed):
    items = list(drawing.items())
    random.Random(seed).shuffle(items)
    assert suggest(dict(items), ATLAS, limit=20) == suggest(drawing, ATLAS, limit=20)


@settings(max_examples=100, deadline=None)
@given(drawing=drawings)
def test_every_candidate_is_explained_by_zones_that_were_painful(drawing):
    painful = {zone for zone, intensity in drawing.items() if intensity > 0}
    for candidate in rank(drawing, ATLAS):
        assert candidate.matched_zones and set(candidate.matched_zones) <= painful
        essential, _ = ATLAS.referred_zones(candidate.muscle, candidate.side)
        assert set(candidate.missing_essential) == essential - painful


# --- the evaluation bars -----------------------------------------------------------------------


def test_the_evaluation_set_has_at_least_55_cited_cases_with_known_muscles():
    cases = load_cases()
    assert len(cases) >= 55
    assert len({case.id for case in cases}) == len(cases)
    for case in cases:
        assert case.source and ATLAS.has_muscle(case.muscle) and case.side in ("left", "right")
        assert set(case.drawing) <= ATLAS.zone_ids


def test_suggestions_meet_the_accuracy_bars_on_published_referral_patterns():
    report = evaluate(ATLAS)
    misses = [(r.case.id, r.rank) for r in report.misses]
    assert report.top3 >= TOP3_BAR, misses
    assert report.top1 >= TOP1_BAR, misses
