"""The shipped follow-up data validates and is internally consistent."""

from __future__ import annotations

import copy

import pytest

from triggerpoint.followup.content import (
    FollowupDataError,
    _build_instructions,
    _read_yaml,
    load_document,
    load_instructions,
    load_lexicon,
    load_symptoms,
    validate_document,
)
from triggerpoint.followup.triage import triage_rules


def test_the_shipped_files_validate_against_their_schemas():
    load_document("symptoms.yaml", "symptoms.schema.json")
    load_document("instructions.yaml", "instructions.schema.json")
    load_document("text_lexicon.yaml", "text_lexicon.schema.json")
    assert load_lexicon().negation_cues[0] == "no"  # YAML must not turn "no" into False


def test_a_symptom_without_a_source_or_spanish_label_is_refused():
    document = _read_yaml("symptoms.yaml")
    broken = copy.deepcopy(document)
    broken["symptoms"][0]["sources"] = []
    del broken["symptoms"][1]["label"]["es"]
    with pytest.raises(FollowupDataError) as raised:
        validate_document(broken, "symptoms.schema.json", "symptoms.yaml")
    assert len(raised.value.problems) == 2


def test_every_symptom_feeds_a_rule_that_triage_defines():
    rule_ids = set(triage_rules())
    assert {symptom.rule for symptom in load_symptoms().symptoms} <= rule_ids


def test_every_self_care_symptom_has_aftercare_advice():
    advice = load_instructions().self_care_advice
    for symptom in load_symptoms().symptoms:
        if symptom.rule == "TRI-SELF-CARE":
            assert symptom.id in advice


def test_instructions_missing_advice_for_a_self_care_symptom_are_refused():
    document = _read_yaml("instructions.yaml")
    del document["self_care_advice"]["bruising"]
    with pytest.raises(FollowupDataError, match="bruising"):
        _build_instructions(document, load_symptoms(), "en")


def test_an_unknown_placeholder_in_an_instruction_is_refused():
    document = _read_yaml("instructions.yaml")
    document["dispositions"]["routine"]["text"]["en"] += " Call {clinic_phone}."
    with pytest.raises(FollowupDataError, match="clinic_phone"):
        _build_instructions(document, load_symptoms(), "en")


def test_every_rule_has_a_basis_and_the_urgent_and_emergency_rules_cite_sources():
    for rule in triage_rules().values():
        assert rule.basis
        if rule.id.startswith(("TRI-EMERG", "TRI-URG")):
            assert rule.sources, rule.id


def test_only_breathing_and_chest_pain_signal_a_possible_pneumothorax():
    flagged = {s.id for s in load_symptoms().symptoms if s.pneumothorax_sign}
    assert flagged == {"trouble_breathing", "chest_pain"}


def test_the_published_list_has_plain_labels_in_english_and_spanish():
    for entry in load_symptoms().published():
        assert entry["label"]["en"] and entry["label"]["es"]
        assert set(entry) == {"id", "label", "group", "rule"}
