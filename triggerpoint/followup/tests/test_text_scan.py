"""The free-text scanner: synonyms, misspellings, negation scope, temperatures, understanding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from triggerpoint.followup.temperature import CELSIUS, FAHRENHEIT
from triggerpoint.followup.text_scan import scan_text, typo_distance
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS

PLAUSIBLE = DEFAULT_THRESHOLDS.plausible_temperature_f


def scan(text):
    return scan_text(text, plausible_f=PLAUSIBLE)


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("short of breth", "trouble_breathing"),
        ("cant breathe", "trouble_breathing"),
        ("I can’t breathe", "trouble_breathing"),
        ("SOB since lunch", "trouble_breathing"),
        ("really hard to brethe", "trouble_breathing"),
        ("my chest is really tight", "chest_pain"),
        ("chesst pain", "chest_pain"),
        ("itchy hives", "hives"),
        ("there is pus", "site_discharge"),
        ("feever tonight", "fever"),
        ("numb lips", "mouth_numbness"),
        ("metalic taste", "metallic_taste"),
        ("ringing in my ears", "ringing_ears"),
        ("passed out", "fainting"),
        ("dolor de pecho", "chest_pain"),
        ("ice doesnt help", "pain_not_relieved"),
    ],
)
def test_it_recognises_synonyms_abbreviations_and_misspellings(text, symptom):
    assert symptom in scan(text).symptoms


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("no fever", "fever"),
        ("not short of breath", "trouble_breathing"),
        ("denies chest pain", "chest_pain"),
        ("without any itching", "itching"),
        ("never had hives", "hives"),
        ("I don't have a rash", "rash"),
        ("no fever or chills", "fever"),
        ("sin fiebre", "fever"),
    ],
)
def test_it_reads_a_negated_symptom_as_absent_but_recognised(text, symptom):
    result = scan(text)
    assert symptom not in result.symptoms
    assert symptom in result.negated_symptoms
    assert result.understood


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("no fever but chest pain", "chest_pain"),
        ("no fever, chest pain", "chest_pain"),
        ("no fever. chest pain", "chest_pain"),
        ("no fever and my chest hurts", "chest_pain"),
        ("not sure if I have a fever", "fever"),
        ("cant breathe", "trouble_breathing"),
        ("no relief from ice", "pain_not_relieved"),
        ("no change in the swelling", "site_swelling"),
    ],
)
def test_negation_scope_ends_at_punctuation_and_but_and_pseudo_negations_do_not_negate(text, symptom):
    assert symptom in scan(text).symptoms


def test_negation_reaches_only_a_few_words():
    far = "no I really do think that honestly there is pus"
    assert "site_discharge" in scan(far).symptoms
    assert "site_discharge" not in scan("no pus").symptoms


@pytest.mark.parametrize(
    ("text", "value", "unit", "inferred"),
    [
        ("fever 102", Decimal("102"), FAHRENHEIT, True),
        ("temp of 38.9", Decimal("38.9"), CELSIUS, True),
        ("39C", Decimal("39"), CELSIUS, False),
        ("101.5 °F", Decimal("101.5"), FAHRENHEIT, False),
        ("38,5 grados", Decimal("38.5"), CELSIUS, True),
        ("it was 102 degrees", Decimal("102"), FAHRENHEIT, True),
        ("temperature 37.8 celsius", Decimal("37.8"), CELSIUS, False),
    ],
)
def test_it_reads_temperatures_with_and_without_units(text, value, unit, inferred):
    result = scan(text)
    assert result.temperature is not None
    assert (result.temperature.value, result.temperature.unit) == (value, unit)
    assert result.temperature_mentions[0].unit_inferred is inferred


def test_it_keeps_the_highest_temperature_in_a_message():
    assert scan("99 F this morning, 101.9 F tonight").temperature.value == Decimal("101.9")


@pytest.mark.parametrize("text", ["temp 300", "fever 20", "it says 39 F"])
def test_it_does_not_guess_an_implausible_temperature(text):
    result = scan(text)
    assert result.temperature is None
    assert result.unreadable_temperatures
    assert not result.understood


@pytest.mark.parametrize("text", ["pain 8/10 since 3/4", "fever for 10 days", "took 400 mg of ibuprofen"])
def test_scores_dates_durations_and_doses_are_not_temperatures(text):
    assert scan(text).temperature_mentions == ()


@pytest.mark.parametrize("text", ["asdf qwerty", "the spot looks weird", "I'm not ok"])
def test_it_flags_a_message_it_could_not_understand(text):
    assert not scan(text).understood


@pytest.mark.parametrize("text", ["", "   ", "feeling fine, thanks", "no fever", "temp 98.6"])
def test_it_understands_empty_messages_reassurance_denials_and_plain_readings(text):
    assert scan(text).understood


def test_real_words_near_a_symptom_word_are_not_misread():
    result = scan("I was discharged from the clinic and did some stuff")
    assert "site_discharge" not in result.symptoms
    assert "site_soreness" not in result.symptoms


@pytest.mark.parametrize(("a", "b", "distance"), [("pain", "pain", 0), ("pian", "pain", 1), ("breth", "breath", 1),
                                                  ("fever", "feaver", 1), ("hives", "rash", 5)])
def test_typo_distance_counts_a_swap_of_neighbours_as_one_edit(a, b, distance):
    assert typo_distance(a, b) == distance
