"""The coded pick-lists of the assessment visit (data/history_options.yaml)."""

import pytest

from triggerpoint.assessment._data import AssessmentDataError, read_yaml, validate_document
from triggerpoint.assessment.options import build_history_options, load_history_options
from triggerpoint.core.rules import RuleInputError


def test_the_option_file_matches_its_schema():
    validate_document(
        read_yaml("history_options.yaml"), "history_options.schema.json", "history_options.yaml"
    )


def test_a_broken_option_file_is_refused_listing_each_problem():
    document = read_yaml("history_options.yaml")
    document["lists"]["suspected_causes"]["options"].append({"id": "Bad Id", "label": ""})
    with pytest.raises(AssessmentDataError) as error:
        validate_document(document, "history_options.schema.json", "history_options.yaml")
    assert len(error.value.problems) >= 3  # bad id, empty label, missing sources


def test_it_loads_every_list_the_visit_needs():
    options = load_history_options()
    assert set(options.lists) == {
        "suspected_causes",
        "prior_treatments",
        "treatment_outcomes",
        "plan_adjuncts",
        "follow_up_intervals",
    }


def test_the_lists_carry_the_options_of_the_clinic_protocol():
    options = load_history_options()
    assert {
        "injury",
        "car_accident_whiplash",
        "reaction_to_other_injury",
        "poor_posture",
        "stress",
        "other",
    } <= set(options.list("suspected_causes").ids)
    assert {"physical_therapy", "nsaids", "opioids", "earlier_injections"} <= set(
        options.list("prior_treatments").ids
    )
    assert options.list("treatment_outcomes").ids == (
        "helped",
        "partly_helped",
        "no_change",
        "made_worse",
        "not_tolerated",
    )
    assert {"behavioural_therapy", "lifestyle_changes", "home_stretching"} <= set(
        options.list("plan_adjuncts").ids
    )


def test_follow_up_intervals_have_days_except_as_needed():
    intervals = load_history_options().list("follow_up_intervals")
    assert intervals.get("6_weeks").days == 42
    assert intervals.get("as_needed").days is None
    days = [option.days for option in intervals.options if option.days is not None]
    assert days == sorted(days)


def test_other_needs_a_description():
    options = load_history_options()
    with pytest.raises(RuleInputError, match="needs a short description"):
        options.validate_choices("suspected_causes", {"other": "  "})
    chosen = options.validate_choices("suspected_causes", {"other": "fell off a ladder", "stress": None})
    assert [option.id for option in chosen] == ["other", "stress"]


def test_unknown_choices_are_refused_with_the_allowed_ids_and_all_problems_together():
    with pytest.raises(RuleInputError) as error:
        load_history_options().validate_choices(
            "prior_treatments", {"acupuncture": None, "earlier_injections": None}
        )
    assert len(error.value.problems) == 2
    assert "allowed: physical_therapy" in str(error.value)


def test_an_unknown_list_is_refused():
    with pytest.raises(RuleInputError, match="allowed: suspected_causes"):
        load_history_options().list("hobbies")


def test_a_duplicate_option_id_is_refused_at_load():
    document = read_yaml("history_options.yaml")
    document["lists"]["stretch"] = document["lists"]["plan_adjuncts"]
    document["lists"]["plan_adjuncts"]["options"].append(document["lists"]["plan_adjuncts"]["options"][0])
    with pytest.raises(AssessmentDataError, match="duplicate option id"):
        build_history_options(document)
