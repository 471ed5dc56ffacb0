"""Specification of outcome instruments: definitions, scoring at the edges, change and MCID."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml

from triggerpoint.catalogues.instrument_scoring import change, is_responder, score, score_nrs, score_peg3
from triggerpoint.catalogues.instruments import (
    INSTRUMENTS_DIR,
    SCHEMA_PATH,
    Score,
    get_instrument,
    instrument_from_dict,
    load_instruments,
)
from triggerpoint.core.rules import RuleInputError

SHIPPED = ("nrs_pain", "percent_relief", "peg3", "pgic", "ndi")


def _definition(name: str) -> dict:
    return yaml.safe_load((INSTRUMENTS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _ndi(value: int, answered: int = 10) -> dict[str, int]:
    return {f"section_{k}": value for k in range(1, answered + 1)}


# --------------------------------------------------------------------------- definitions


def test_every_shipped_definition_validates_against_the_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    files = sorted(INSTRUMENTS_DIR.glob("*.yaml"))
    assert {f.stem for f in files} == set(SHIPPED)
    for path in files:
        jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_it_ships_the_five_instruments_each_with_sources_and_a_licence_note():
    instruments = load_instruments()
    assert sorted(instruments) == sorted(SHIPPED)
    for instrument in instruments.values():
        assert instrument.sources
        assert instrument.licence
        for item in instrument.items:
            assert item.text.en and item.text.es


def test_the_ndi_example_carries_no_copyrighted_item_text():
    ndi = get_instrument("ndi")
    assert "licence" in ndi.licence.lower()
    assert [item.text.en for item in ndi.items] == [f"Section {k}" for k in range(1, 11)]
    assert ndi.mcid is not None and ndi.mcid.points == 7.5


def test_it_refuses_an_unknown_instrument_and_names_the_known_ones():
    with pytest.raises(RuleInputError) as error:
        get_instrument("oswestry")
    assert "nrs_pain" in str(error.value)


def test_a_clinic_directory_adds_an_instrument_without_code(tmp_path):
    clinic = _definition("peg3")
    clinic.update(id="clinic_back_score", name="Clinic back score")
    (tmp_path / "clinic_back_score.yaml").write_text(
        yaml.safe_dump(clinic, allow_unicode=True), encoding="utf-8"
    )
    instruments = load_instruments([tmp_path])
    assert "clinic_back_score" in instruments
    assert score(instruments["clinic_back_score"], {"pain": 3, "enjoyment": 3, "activity": 6}).value == 4


def test_a_clinic_directory_cannot_redefine_a_shipped_instrument(tmp_path):
    (tmp_path / "peg_copy.yaml").write_text(yaml.safe_dump(_definition("peg3")), encoding="utf-8")
    with pytest.raises(RuleInputError, match="defined twice"):
        load_instruments([tmp_path])


def test_a_definition_with_a_free_form_formula_is_refused():
    bad = _definition("peg3")
    bad["scoring"]["method"] = "__import__('os').system('true')"
    with pytest.raises(RuleInputError, match="scoring/method"):
        instrument_from_dict(bad)


def test_a_definition_reports_every_consistency_problem_at_once():
    bad = _definition("peg3")
    bad["score_range"] = {"min": 0, "max": 30}
    bad["min_answered_items"] = 4
    bad["items"][1]["id"] = "pain"
    with pytest.raises(RuleInputError) as error:
        instrument_from_dict(bad, "bad.yaml")
    text = str(error.value)
    assert "duplicate item ids: pain" in text
    assert "min_answered_items 4 exceeds the 3 items" in text
    assert "does not match" in text


def test_a_scoring_item_that_does_not_exist_is_refused():
    bad = _definition("nrs_pain")
    bad["scoring"]["method"] = "item:least"
    with pytest.raises(RuleInputError, match="unknown item"):
        instrument_from_dict(bad)


def test_an_unprorated_sum_must_require_every_item():
    bad = _definition("ndi")
    bad["scoring"]["prorate_missing"] = False
    with pytest.raises(RuleInputError, match="needs every item answered"):
        instrument_from_dict(bad)


def test_an_anchor_outside_its_range_is_refused():
    bad = copy.deepcopy(_definition("percent_relief"))
    bad["items"][0]["response"]["anchors"][0]["value"] = 101
    with pytest.raises(RuleInputError, match="outside 0-100"):
        instrument_from_dict(bad)


# --------------------------------------------------------------------------- scoring at the edges


@pytest.mark.parametrize(
    ("instrument_id", "answers", "expected"),
    [
        ("nrs_pain", {"now": 0, "average": 0, "worst": 0}, 0),
        ("nrs_pain", {"now": 10, "average": 10, "worst": 10}, 10),
        ("peg3", {"pain": 0, "enjoyment": 0, "activity": 0}, 0),
        ("peg3", {"pain": 10, "enjoyment": 10, "activity": 10}, 10),
        ("percent_relief", {"relief": 0}, 0),
        ("percent_relief", {"relief": 100}, 100),
        ("pgic", {"change": 1}, 1),
        ("pgic", {"change": 7}, 7),
        ("ndi", _ndi(0), 0),
        ("ndi", _ndi(5), 50),
    ],
)
def test_it_scores_each_instrument_at_the_ends_of_its_range(instrument_id, answers, expected):
    instrument = get_instrument(instrument_id)
    result = score(instrument, answers)
    assert result.valid
    assert result.value == expected
    assert instrument.score_min <= result.value <= instrument.score_max


@pytest.mark.parametrize(
    ("instrument_id", "answers", "problem"),
    [
        ("nrs_pain", {"now": 11}, "now: 11 is out of range"),
        ("nrs_pain", {"average": -1}, "average: -1 is out of range"),
        ("peg3", {"pain": 4.5, "enjoyment": 1, "activity": 1}, "not a whole number"),
        ("percent_relief", {"relief": 101}, "relief: 101 is out of range"),
        ("pgic", {"change": 0}, "one of 1, 2, 3, 4, 5, 6, 7"),
        ("pgic", {"change": 8}, "one of 1, 2, 3, 4, 5, 6, 7"),
        ("ndi", {"section_1": 6}, "from 0 to 5"),
        ("nrs_pain", {"now": True}, "not a number"),
        ("nrs_pain", {"now": "7"}, "not a number"),
        ("nrs_pain", {"now": float("nan")}, "not a whole number"),
    ],
)
def test_it_refuses_an_out_of_range_or_malformed_answer(instrument_id, answers, problem):
    with pytest.raises(RuleInputError, match=problem):
        score(get_instrument(instrument_id), answers)


def test_it_accepts_a_whole_number_written_as_a_float():
    assert score_nrs(now=7.0, average=6.0, worst=9.0).value == 6


def test_it_refuses_unknown_items_and_lists_every_problem_at_once():
    with pytest.raises(RuleInputError) as error:
        score(get_instrument("peg3"), {"pain": 11, "sleep": 3, "enjoyment": -2})
    assert len(error.value.problems) == 3
    assert "unknown items for peg3: sleep; allowed: pain, enjoyment, activity" in error.value.problems[0]


def test_peg3_is_the_mean_of_its_three_items():
    assert score_peg3(pain=5, enjoyment=6, activity=8).value == pytest.approx(19 / 3)


def test_peg3_with_a_missing_item_is_not_a_valid_score():
    result = score_peg3(pain=5, enjoyment=None, activity=8)
    assert result == Score("peg3", "1.0", None, False, ("enjoyment",))


def test_nrs_scores_average_pain_and_is_invalid_without_it():
    assert score_nrs(now=2, average=6, worst=9).value == 6
    result = score_nrs(now=2, worst=9)
    assert not result.valid and result.value is None and result.missing_items == ("average",)


def test_ndi_prorates_one_missing_section_but_not_two():
    one_missing = score(get_instrument("ndi"), _ndi(3, answered=9))
    assert one_missing.valid and one_missing.value == 30
    assert one_missing.missing_items == ("section_10",)
    two_missing = score(get_instrument("ndi"), _ndi(3, answered=8))
    assert not two_missing.valid and two_missing.value is None


def test_percent_of_max_counts_only_answered_items():
    definition = _definition("peg3")
    definition.update(
        id="peg_percent", scoring={"method": "percent_of_max"}, score_range={"min": 0, "max": 100}
    )
    definition["min_answered_items"] = 2
    instrument = instrument_from_dict(definition)
    assert score(instrument, {"pain": 5, "enjoyment": 10}).value == 75
    assert score(instrument, {"pain": 5, "enjoyment": 10, "activity": 0}).value == 50


# --------------------------------------------------------------------------- change, direction and MCID


def test_lower_pain_is_an_improvement_and_higher_pain_is_not():
    nrs = get_instrument("nrs_pain")
    better = change(nrs, 7, 4)
    assert better.absolute == -3 and better.improvement == 3 and better.improved
    worse = change(nrs, 4, 7)
    assert worse.improvement == -3 and not worse.improved and worse.beats_mcid is False


def test_higher_is_better_instruments_read_an_increase_as_improvement():
    definition = _definition("peg3")
    definition.update(id="function_score", direction="higher_is_better")
    function = instrument_from_dict(definition)
    result = change(function, 4, 6)
    assert result.improvement == 2 and result.improved and result.improvement_percent == 50


@pytest.mark.parametrize(
    ("baseline", "follow_up", "beats"),
    [
        (9, 7, True),  # 2 points reaches the MCID although only 22%
        (9, 8, False),  # 1 point, 11%
        (3, 2, True),  # 1 point is 33%, which reaches 30%
        (10, 7, True),  # exactly 30% and 3 points
        (10, 8.1, False),  # 1.9 points and 19%
    ],
)
def test_nrs_beats_the_mcid_at_two_points_or_thirty_percent(baseline, follow_up, beats):
    assert change(get_instrument("nrs_pain"), baseline, follow_up).beats_mcid is beats


def test_a_thirty_percent_change_is_not_lost_to_floating_point():
    # 7 -> 4.9 is 2.1 points: 29.999999999999993% in binary floating point.
    result = change(get_instrument("peg3"), 7, 4.9)
    assert result.beats_mcid


@pytest.mark.parametrize(("follow_up", "beats"), [(42.6, False), (42.5, True), (0, True)])
def test_ndi_beats_the_mcid_from_seven_and_a_half_points(follow_up, beats):
    assert change(get_instrument("ndi"), 50, follow_up).beats_mcid is beats


def test_change_reads_valid_scores_and_refuses_invalid_ones():
    peg = get_instrument("peg3")
    result = change(peg, score_peg3(8, 8, 8), score_peg3(5, 5, 5))
    assert result.improvement == 3
    with pytest.raises(RuleInputError, match="not valid"):
        change(peg, score_peg3(8, 8, 8), score_peg3(5, None, 5))
    with pytest.raises(RuleInputError, match="is for nrs_pain"):
        change(peg, score_nrs(average=8), score_peg3(5, 5, 5))


def test_change_from_a_zero_baseline_has_no_percent():
    result = change(get_instrument("nrs_pain"), 0, 2)
    assert result.percent is None and result.improvement_percent is None and not result.improved


def test_change_refuses_scores_outside_the_instrument_range():
    with pytest.raises(RuleInputError) as error:
        change(get_instrument("nrs_pain"), 11, -1)
    assert len(error.value.problems) == 2


def test_change_instruments_are_read_against_their_responder_threshold_not_compared():
    with pytest.raises(RuleInputError, match="responder threshold"):
        change(get_instrument("percent_relief"), 20, 60)


@pytest.mark.parametrize(("relief", "responder"), [(49, False), (50, True), (100, True)])
def test_percent_relief_responds_from_fifty_percent(relief, responder):
    assert is_responder(get_instrument("percent_relief"), relief) is responder


@pytest.mark.parametrize(("rating", "responder"), [(1, True), (2, True), (3, False), (7, False)])
def test_pgic_responds_at_much_or_very_much_improved(rating, responder):
    pgic = get_instrument("pgic")
    assert is_responder(pgic, score(pgic, {"change": rating})) is responder


def test_an_instrument_without_a_responder_threshold_refuses_the_question():
    with pytest.raises(RuleInputError, match="no responder threshold"):
        is_responder(get_instrument("nrs_pain"), 3)
