"""The pure checks behind every visit save (page, API, amendment): boundaries on both sides."""

from __future__ import annotations

from datetime import date

import pytest

from triggerpoint.assessment.visit_input import VisitContext, parse_visit_changes, signing_problems
from triggerpoint.core.rules import RuleInputError

DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def catalogues():
    from triggerpoint.assessment.visit_reads import catalogues

    return catalogues()


def _context(examined=None, scores=None):
    return VisitContext(visit_date=DAY, examined_sites=examined or {}, current_scores=scores or {})


@pytest.mark.parametrize("value", [0, 10])
def test_it_accepts_pain_scores_at_both_ends_of_the_scale(value, catalogues):
    assert parse_visit_changes({"nrs_worst": value}, _context(), catalogues)["nrs_worst"] == value


@pytest.mark.parametrize("value", [-1, 11, 5.5, "x"])
def test_it_refuses_pain_scores_off_the_scale(value, catalogues):
    with pytest.raises(RuleInputError):
        parse_visit_changes({"nrs_worst": value}, _context(), catalogues)


def test_an_onset_on_the_visit_day_is_accepted_and_the_day_after_refused(catalogues):
    assert parse_visit_changes({"onset_date": "2026-11-20"}, _context(), catalogues)["onset_date"] == DAY
    with pytest.raises(RuleInputError, match="after the visit date"):
        parse_visit_changes({"onset_date": "2026-11-21"}, _context(), catalogues)


def test_drawing_intensities_are_whole_numbers_from_0_to_10(catalogues):
    clean = parse_visit_changes({"pain_drawing": [{"zone": "neck-side-r", "intensity": 0},
                                                  {"zone": "temple-r", "intensity": 10}]}, _context(), catalogues)
    assert clean["pain_drawing"] == {"neck-side-r": 0, "temple-r": 10}
    with pytest.raises(RuleInputError) as caught:
        parse_visit_changes({"pain_drawing": {"neck-side-r": 11, "temple-r": True}}, _context(), catalogues)
    assert len(caught.value.problems) == 2


def test_a_peg_item_change_recomputes_the_score_from_the_stored_items(catalogues):
    clean = parse_visit_changes({"peg_activity": 9}, _context(scores={"peg_pain": 3, "peg_enjoyment": 3}), catalogues)
    assert float(clean["peg_score"]) == 5.0


def test_latent_sites_may_be_planned_but_not_sites_without_a_trigger_point(catalogues):
    examined = {("levator_scapulae", "right"): "latent", ("infraspinatus", "left"): "not_trigger_point"}
    ok = parse_visit_changes({"planned_sites": [{"muscle": "levator_scapulae", "side": "right"}]},
                             _context(examined), catalogues)
    assert ok["planned_sites"] == [{"muscle": "levator_scapulae", "side": "right"}]
    with pytest.raises(RuleInputError, match="injections target trigger points only"):
        parse_visit_changes({"planned_sites": [{"muscle": "infraspinatus", "side": "left"}]}, _context(examined),
                            catalogues)


def test_injectate_volume_must_be_above_zero_and_at_most_50_ml(catalogues):
    ok = parse_visit_changes({"planned_injectate": [{"drug": "lidocaine", "volume_ml": 50}]}, _context(), catalogues)
    assert ok["planned_injectate"][0]["volume_ml"] == 50
    for volume in (0, 50.1):
        with pytest.raises(RuleInputError, match="volume_ml"):
            parse_visit_changes({"planned_injectate": [{"drug": "lidocaine", "volume_ml": volume}]}, _context(),
                                catalogues)


def test_signing_needs_exactly_one_primary_diagnosis_and_a_baseline_score():
    ready = signing_problems(diagnosis_codes=["M79.12"], primary_count=1, examined_sites={}, planned_sites=[],
                             nrs_average=0)
    assert ready.ready
    two_primaries = signing_problems(diagnosis_codes=["M79.12", "M54.2"], primary_count=2, examined_sites={},
                                     planned_sites=[], nrs_average=4)
    assert not two_primaries.ready and "exactly one" in two_primaries.problems[0]


@pytest.mark.parametrize("value", ["landmark", "ultrasound", ""])
def test_the_planned_guidance_is_landmark_ultrasound_or_not_decided(value, catalogues):
    assert parse_visit_changes({"planned_guidance": value}, _context(), catalogues)["planned_guidance"] == value


def test_an_unknown_planned_guidance_is_refused(catalogues):
    with pytest.raises(RuleInputError, match="planned_guidance must be one of landmark, ultrasound"):
        parse_visit_changes({"planned_guidance": "fluoroscopy"}, _context(), catalogues)
