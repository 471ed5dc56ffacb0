"""The request contract: every missing or unknown fact is listed; nothing becomes a silent `ready`."""

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.rules import parse_screening_request
from triggerpoint.screening.tests.builders import payload, screen


def problems_of(body):
    with pytest.raises(RuleInputError) as error:
        screen(body)
    return error.value.problems


def test_an_empty_request_lists_every_missing_section():
    problems = problems_of({})
    for section in ("procedure_date", "patient", "events", "today", "plan"):
        assert any(problem.startswith(f"{section} is required") for problem in problems), section


def test_a_non_object_body_is_refused():
    with pytest.raises(RuleInputError):
        screen([])


def test_every_missing_patient_and_today_fact_is_listed_at_once():
    body = payload(patient={}, today={})
    body["patient"] = {}
    body["today"] = {}
    problems = problems_of(body)
    expected = [
        "patient.age", "patient.sex", "patient.weight_kg", "patient.pregnant", "patient.high_bleeding_risk",
        "patient.allergy_status", "patient.allergies", "patient.medications", "patient.conditions",
        "today.feels_unwell", "today.on_antibiotics", "today.infection_at_site",
    ]
    for path in expected:
        assert any(problem.startswith(f"{path} is required") for problem in problems), path
    assert len(problems) == len(expected)


def test_a_missing_events_list_is_not_taken_as_no_events():
    body = payload()
    del body["events"]
    assert problems_of(body) == ["events is required (use [] when there are none)"]


def test_an_unknown_muscle_lists_the_allowed_muscles():
    (problem,) = problems_of(payload(plan={"sites": [{"muscle": "trapezius_upper", "side": "left"}]}))
    assert "trapezius_upper" in problem
    assert "upper_trapezius" in problem and "quadratus_lumborum" in problem


def test_an_unknown_side_lists_the_allowed_sides():
    (problem,) = problems_of(payload(plan={"sites": [{"muscle": "rhomboids", "side": "both"}]}))
    assert "left, right" in problem


def test_an_unknown_drug_lists_the_allowed_drugs():
    (problem,) = problems_of(payload(plan={"injectates": [{"drug": "unobtainium"}]}))
    assert "unobtainium" in problem
    assert "lidocaine" in problem and "saline" in problem


def test_an_unknown_temperature_unit_lists_the_allowed_units():
    (problem,) = problems_of(payload(today={"temperature": {"value": 311, "unit": "K"}}))
    assert "'K'" in problem and "C, F" in problem


def test_a_temperature_in_the_wrong_unit_is_refused_as_implausible():
    (problem,) = problems_of(payload(today={"temperature": {"value": 100.4, "unit": "C"}}))
    assert "check the unit" in problem


def test_unknown_codes_list_the_allowed_values():
    body = payload(
        patient={"conditions": ["hemophilia"], "medications": [{"name": "x", "drug_class": "blood_thinner"}], "sex": "m"},
        events=[{"type": "flu", "date": "2025-06-01"}],
        plan={"guidance": "fluoroscopy", "technique": "acupuncture"},
    )
    problems = problems_of(body)
    assert len(problems) == 6
    assert any("hemophilia" in p and "bleeding_disorder" in p for p in problems)
    assert any("blood_thinner" in p and "anticoagulant" in p for p in problems)
    assert any("'m'" in p and "female" in p for p in problems)
    assert any("flu" in p and "hospitalization" in p for p in problems)
    assert any("fluoroscopy" in p and "ultrasound" in p for p in problems)
    assert any("acupuncture" in p and "dry_needling" in p for p in problems)


@pytest.mark.parametrize("value", ["2025-6-30", "30/06/2025", "2025-02-30", 20250630])
def test_a_malformed_procedure_date_is_refused(value):
    assert len(problems_of(payload(procedure_date=value))) == 1


@pytest.mark.parametrize("value", ["yes", 1, 0, "false"])
def test_yes_no_facts_must_be_true_or_false(value):
    (problem,) = problems_of(payload(today={"feels_unwell": value}))
    assert "today.feels_unwell must be true or false" in problem


def test_an_empty_plan_is_refused():
    problems = problems_of(payload(plan={"sites": [], "injectates": []}))
    assert any("at least one muscle" in p for p in problems)
    assert any("dry_needling" in p for p in problems)


def test_dry_needling_needs_no_injectate():
    assert screen(payload(plan={"injectates": [], "technique": "dry_needling"})).status == "ready"


def test_dry_needling_with_drugs_is_contradictory():
    (problem,) = problems_of(payload(plan={"technique": "dry_needling"}))
    assert "dry_needling" in problem


@pytest.mark.parametrize("path, value", [("age", 130), ("weight_kg", 0), ("bmi", 3), ("age", 40.5), ("weight_kg", True)])
def test_implausible_patient_numbers_are_refused(path, value):
    (problem,) = problems_of(payload(patient={path: value}))
    assert f"patient.{path}" in problem


def test_negative_steroid_counts_are_refused():
    (problem,) = problems_of(payload(history={"steroid_injections_last_12_months": -1}))
    assert "history.steroid_injections_last_12_months" in problem


def test_drug_names_and_synonyms_resolve_to_catalogue_ids():
    inp = parse_screening_request(payload(plan={"injectates": [{"drug": "Kenalog"}, {"drug": "Xylocaine"}]}))
    assert [injectate.drug for injectate in inp.plan.injectates] == ["triamcinolone", "lidocaine"]
