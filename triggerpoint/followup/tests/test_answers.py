"""Check-in answers: one check for form, portal and API, and the triage request built from them (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.answers import normalise_answers, triage_request

EST = timezone(timedelta(hours=-5))


def test_answers_are_normalised_to_the_stored_shape():
    answers = normalise_answers({"symptoms": ["fever", "fever", "bruising"], "temperature": {"value": "38.6", "unit": "c"},
                                 "pain_now": "4", "relief_percent": 50, "free_text": "  sore  "})
    assert answers == {"symptoms": ["bruising", "fever"], "temperature": {"value": 38.6, "unit": "C"},
                       "pain_now": 4, "relief_percent": 50, "free_text": "sore"}


def test_an_empty_check_in_is_a_valid_answer():
    assert normalise_answers({}) == {"symptoms": [], "temperature": None, "pain_now": None, "relief_percent": None,
                                     "free_text": ""}


def test_every_problem_in_the_answers_is_listed():
    with pytest.raises(RuleInputError) as caught:
        normalise_answers({"symptoms": ["hiccups"], "temperature": {"value": "hot", "unit": "K"}, "pain_now": 11,
                           "relief_percent": 101, "mood": "ok"})
    problems = " | ".join(caught.value.problems)
    for expected in ("unknown field(s) ['mood']", "unknown symptom id(s) ['hiccups']", "temperature.value",
                     "temperature.unit", "pain_now", "relief_percent"):
        assert expected in problems


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("pain_now", 0, True), ("pain_now", 10, True), ("pain_now", -1, False), ("pain_now", 10.5, False),
    ("relief_percent", 0, True), ("relief_percent", 100, True), ("relief_percent", 101, False),
])
def test_scales_are_checked_at_both_ends(field, value, ok):
    if ok:
        assert normalise_answers({field: value})[field] == value
    else:
        with pytest.raises(RuleInputError):
            normalise_answers({field: value})


def test_the_triage_request_carries_the_procedure_facts_and_drops_relief():
    answers = normalise_answers({"symptoms": ["trouble_breathing"], "pain_now": 3, "relief_percent": 20,
                                 "temperature": {"value": 99.1, "unit": "F"}, "free_text": "short of breath"})
    performed = datetime(2025, 3, 3, 14, 0, tzinfo=EST)
    payload = triage_request(answers, procedure_date=date(2025, 3, 3), reported_at=performed + timedelta(hours=5),
                             sites=[("upper_trapezius", "left"), ("upper_trapezius", "left")], procedure_at=performed)
    assert payload == {
        "procedure_date": "2025-03-03", "reported_at": "2025-03-03T19:00:00-05:00",
        "symptoms": ["trouble_breathing"], "sites": [{"muscle": "upper_trapezius", "side": "left"}],
        "procedure_at": "2025-03-03T14:00:00-05:00", "temperature": {"value": 99.1, "unit": "F"}, "pain_now": 3,
        "free_text": "short of breath",
    }


def test_an_injection_time_on_another_day_than_the_note_date_is_left_out_not_refused():
    payload = triage_request({}, procedure_date=date(2025, 3, 3), reported_at=datetime(2025, 3, 4, 9, tzinfo=EST),
                             procedure_at=datetime(2025, 3, 2, 23, tzinfo=EST))
    assert "procedure_at" not in payload


@pytest.mark.parametrize(("value", "unit"), [(300, "F"), (20, "C"), (93.1, "F"), (43.1, "C")])
def test_an_implausible_temperature_is_listed_with_the_other_problems(value, unit):
    with pytest.raises(RuleInputError) as caught:
        normalise_answers({"temperature": {"value": value, "unit": unit}, "pain_now": 11})
    assert len(caught.value.problems) == 2
    assert "not a plausible body temperature" in caught.value.problems[0]


@pytest.mark.parametrize(("value", "unit"), [(93.2, "F"), (109.4, "F"), (34.0, "C"), (43.0, "C")])
def test_the_ends_of_the_plausible_range_are_accepted(value, unit):
    assert normalise_answers({"temperature": {"value": value, "unit": unit}})["temperature"]["unit"] == unit
