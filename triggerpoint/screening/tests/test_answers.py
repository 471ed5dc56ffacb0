"""The questionnaire answers: what may be stored, every problem listed, later answers merged."""

from __future__ import annotations

from datetime import date

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.answers import merge_answers, parse_answers, split_free_text

PROCEDURE = date(2030, 3, 20)
ANSWERED = date(2030, 3, 15)


def test_it_accepts_a_complete_questionnaire_and_normalises_numbers():
    answers = parse_answers(
        {
            "events": [{"type": "fever", "date": "2030-03-01"}],
            "today": {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False,
                      "temperature": {"value": "100.4", "unit": "F"}, "blood_glucose_mg_dl": "180"},
            "pregnant": "no",
            "prior_vasovagal": True,
            "steroid_injections_elsewhere_12m": 2,
            "notes": "  knee injection in January ",
        },
        PROCEDURE,
        ANSWERED,
    )
    assert answers["today"]["temperature"] == {"value": 100.4, "unit": "F"}
    assert answers["today"]["blood_glucose_mg_dl"] == 180
    assert answers["notes"] == "knee injection in January"
    assert answers["events"] == [{"type": "fever", "date": "2030-03-01"}]


def test_it_lists_every_problem_at_once():
    with pytest.raises(RuleInputError) as caught:
        parse_answers(
            {
                "events": [{"type": "flu", "date": "2030-03-30"}],
                "today": {"feels_unwell": "maybe", "temperature": {"value": 38, "unit": "K"}},
                "pregnant": "perhaps",
                "favourite_colour": "blue",
            },
            PROCEDURE,
            ANSWERED,
        )
    problems = " | ".join(caught.value.problems)
    assert "favourite_colour is not a questionnaire answer" in problems
    assert "events[0].type 'flu' is not allowed; allowed: fever, antibiotics, illness, hospitalization" in problems
    assert "events[0].date 2030-03-30 is in the future" in problems
    assert "not before the procedure date" in problems
    assert "today.feels_unwell must be true or false" in problems
    assert "today.temperature.unit 'K' is not allowed; allowed: C, F" in problems
    assert "pregnant 'perhaps' is not allowed" in problems


def test_it_refuses_an_event_on_the_procedure_day_but_accepts_the_day_before():
    day_before = {"events": [{"type": "illness", "date": "2030-03-19"}]}
    assert parse_answers(day_before, PROCEDURE, PROCEDURE)["events"][0]["date"] == "2030-03-19"
    with pytest.raises(RuleInputError, match="not before the procedure date"):
        parse_answers({"events": [{"type": "illness", "date": "2030-03-20"}]}, PROCEDURE, PROCEDURE)


def test_it_refuses_an_implausible_temperature_as_a_likely_unit_error():
    with pytest.raises(RuleInputError, match="check the unit"):
        parse_answers({"today": {"temperature": {"value": 100.4, "unit": "C"}}}, PROCEDURE, ANSWERED)
    ok = parse_answers({"today": {"temperature": {"value": 37.9, "unit": "C"}}}, PROCEDURE, ANSWERED)
    assert ok["today"]["temperature"] == {"value": 37.9, "unit": "C"}


def test_a_later_temperature_keeps_the_patients_earlier_answers_for_today():
    earlier = {"today": {"feels_unwell": False, "on_antibiotics": False}, "events": [{"type": "fever", "date": "2030-03-01"}]}
    later = {"today": {"temperature": {"value": 98.6, "unit": "F"}}}
    merged = merge_answers(earlier, later)
    assert merged["today"] == {"feels_unwell": False, "on_antibiotics": False, "temperature": {"value": 98.6, "unit": "F"}}
    assert merged["events"] == earlier["events"]
    assert merge_answers(merged, {"events": []})["events"] == []


def test_free_text_lists_are_split_on_commas_semicolons_and_lines():
    assert split_free_text("Apixaban, latex;  codeine\nibuprofen ,") == ["Apixaban", "latex", "codeine", "ibuprofen"]
    assert split_free_text("") == []
