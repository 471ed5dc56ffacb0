"""Parsing the triage request: every problem reported, nothing guessed."""

from __future__ import annotations

from datetime import UTC

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.content import load_symptoms
from triggerpoint.followup.temperature import CELSIUS, FAHRENHEIT
from triggerpoint.followup.tests.helpers import checkin
from triggerpoint.followup.triage import parse_triage_request


def problems_of(payload, **kwargs):
    with pytest.raises(RuleInputError) as raised:
        parse_triage_request(payload, **kwargs)
    return raised.value.problems


@pytest.mark.parametrize(("unit", "expected"), [("F", FAHRENHEIT), ("c", CELSIUS), ("°F", FAHRENHEIT),
                                                ("Celsius", CELSIUS)])
def test_it_accepts_fahrenheit_and_celsius_spellings(unit, expected):
    parsed = parse_triage_request(checkin(temperature={"value": 38 if expected == CELSIUS else 100, "unit": unit}))
    assert parsed.temperature.unit == expected


@pytest.mark.parametrize("unit", ["K", "kelvin", "", None, 1])
def test_it_rejects_an_unknown_unit_with_the_allowed_spellings(unit):
    problems = problems_of(checkin(temperature={"value": 38, "unit": unit}))
    assert any("temperature.unit" in p and "'fahrenheit'" in p for p in problems)


@pytest.mark.parametrize(
    ("value", "unit"),
    [(300, "F"), (20, "F"), (20, "C"), (39, "F"), (102, "C"), (93.1, "F"), (109.5, "F"), (33.9, "C")],
)
def test_it_rejects_an_implausible_temperature_instead_of_guessing(value, unit):
    problems = problems_of(checkin(temperature={"value": value, "unit": unit}))
    assert any("not a plausible body temperature" in p and "not guessed" in p for p in problems)


@pytest.mark.parametrize(("value", "unit"), [(93.2, "F"), (109.4, "F"), (34, "C"), (43, "C")])
def test_it_accepts_the_edges_of_the_plausible_range(value, unit):
    assert parse_triage_request(checkin(temperature={"value": value, "unit": unit})).temperature is not None


@pytest.mark.parametrize("value", ["101", True, None, "hot"])
def test_it_rejects_a_temperature_value_that_is_not_a_number(value):
    assert any("temperature.value" in p for p in problems_of(checkin(temperature={"value": value, "unit": "F"})))


def test_it_rejects_unknown_symptoms_and_lists_the_allowed_ids():
    problems = problems_of(checkin(symptoms=["fever", "headache"]))
    assert any("'headache'" in p and "trouble_breathing" in p for p in problems)


@pytest.mark.parametrize("pain", [-1, 11, 7.5, True, "7"])
def test_it_rejects_a_pain_score_outside_0_to_10(pain):
    assert any("pain_now" in p for p in problems_of(checkin(pain_now=pain)))


@pytest.mark.parametrize("pain", [0, 10])
def test_it_accepts_the_ends_of_the_pain_scale(pain):
    assert parse_triage_request(checkin(pain_now=pain)).pain_now == pain


def test_it_rejects_a_naive_reported_at_rather_than_assuming_utc():
    problems = problems_of(checkin(reported_at="2025-03-05T09:00:00"))
    assert any("no UTC offset" in p for p in problems)


def test_it_accepts_a_z_offset():
    assert parse_triage_request(checkin(reported_at="2025-03-05T14:00:00Z")).reported_at.tzinfo == UTC


def test_it_rejects_a_report_dated_before_the_procedure():
    assert any("before the procedure date" in p for p in problems_of(checkin(reported_at="2025-03-02T09:00:00-05:00")))


def test_it_rejects_a_report_before_the_timed_injection_and_a_procedure_time_on_another_day():
    problems = problems_of(checkin(procedure_at="2025-03-03T10:00:00-05:00", reported_at="2025-03-03T09:00:00-05:00"))
    assert any("before procedure_at" in p for p in problems)
    problems = problems_of(checkin(procedure_at="2025-03-04T10:00:00-05:00", reported_at="2025-03-05T09:00:00-05:00"))
    assert any("is not on procedure_date" in p for p in problems)


def test_it_reports_every_problem_at_once():
    payload = {"procedure_date": "03/03/2025", "symptoms": ["nope"], "temperature": {"value": 300, "unit": "F"},
               "pain_now": 12, "temprature": 101}
    problems = problems_of(payload)
    for fragment in ("procedure_date", "reported_at", "symptoms", "temperature", "pain_now", "temprature"):
        assert any(fragment in p for p in problems), fragment


def test_it_requires_the_symptom_list_even_when_empty():
    payload = checkin()
    del payload["symptoms"]
    assert any(p.startswith("symptoms: required") for p in problems_of(payload))


def test_it_rejects_unknown_muscles_and_sides(fake_atlas):
    problems = problems_of(checkin(sites=[{"muscle": "bicepz", "side": "middle"}]), atlas=fake_atlas)
    assert any("unknown muscle 'bicepz'" in p for p in problems)
    assert any("is not a side" in p for p in problems)


def test_it_treats_null_optional_fields_as_absent():
    parsed = parse_triage_request(checkin(temperature=None, pain_now=None, free_text=None, sites=None, procedure_at=None))
    assert (parsed.temperature, parsed.pain_now, parsed.free_text, parsed.sites) == (None, None, "", ())


def test_the_published_symptom_list_is_what_the_parser_accepts():
    catalog = load_symptoms()
    parsed = parse_triage_request(checkin(symptoms=[entry["id"] for entry in catalog.published()]))
    assert parsed.symptoms == frozenset(catalog.ids)
