"""Plan content for each template branch, dates, and the request contract."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggerpoint.aftercare.plan import PlanInput, Site, build_plan, parse_plan_request
from triggerpoint.core.rules import RuleInputError

from .conftest import NON_THORACIC, THORACIC, days_with, request_body, task_ids

# --- the default branch ---


def test_day_zero_has_ice_acetaminophen_bandage_and_what_to_expect(make_plan):
    plan = make_plan()
    day0 = plan.day(0)
    assert day0.date == date(2026, 4, 14)
    assert {"ice", "acetaminophen", "remove_bandage", "expect_soreness"} <= set(day0.task_ids())
    assert {"heat", "stretch"}.isdisjoint(day0.task_ids())
    acetaminophen = next(t for t in day0.tasks if t.id == "acetaminophen")
    assert "label" in acetaminophen.text


def test_heat_then_stretch_runs_from_day_one_through_day_ten(make_plan):
    plan = make_plan()
    assert days_with(plan, "heat") == list(range(1, 11))
    assert days_with(plan, "stretch") == list(range(1, 11))
    for day in plan.days[1:]:
        ids = day.task_ids()
        assert ids.index("heat") < ids.index("stretch")
    assert len(plan.days) == 11


def test_strenuous_activity_is_avoided_through_day_three_and_warnings_run_through_day_five(make_plan):
    plan = make_plan()
    assert days_with(plan, "avoid_strenuous_activity") == [0, 1, 2, 3]
    assert days_with(plan, "warning_signs") == [0, 1, 2, 3, 4, 5]
    assert plan.activity_restriction_until == date(2026, 4, 17)
    assert plan.warning_window_until == date(2026, 4, 19)


def test_a_lidocaine_only_plan_has_no_drug_specific_notes(make_plan):
    ids = task_ids(make_plan())
    assert ids.isdisjoint(
        {
            "steroid_flare",
            "steroid_blood_glucose",
            "steroid_blood_pressure",
            "botulinum_toxin_onset",
            "botulinum_toxin_spread",
            "warning_chest",
            "physical_therapy_follow_up",
        }
    )


# --- stretches from the atlas ---


def test_stretches_come_from_the_atlas_once_per_muscle_naming_both_sides(make_plan, atlas):
    plan = make_plan(
        sites=[
            {"muscle": NON_THORACIC, "side": "left"},
            {"muscle": NON_THORACIC, "side": "right"},
            {"muscle": THORACIC, "side": "right"},
        ]
    )
    stretches = [t for t in plan.day(1).tasks if t.id == "stretch"]
    assert [t.muscle for t in stretches] == [NON_THORACIC, THORACIC]
    both, right_only = stretches
    assert both.sides == ("left", "right") and "both sides" in both.text
    assert right_only.sides == ("right",) and "right side" in right_only.text
    for task in stretches:
        muscle = atlas.muscle(task.muscle)
        assert muscle.name.lower() in task.text.lower()
        for stretch in muscle.stretches:
            assert stretch.name in task.text
            assert stretch.instructions.strip().rstrip(".") in task.text


def test_a_muscle_without_an_atlas_stretch_gets_the_ask_us_text(make_plan, atlas, drugs, template):
    class AtlasWithoutStretches:
        muscles = atlas.muscles

        def has_muscle(self, muscle_id):
            return atlas.has_muscle(muscle_id)

        def muscle(self, muscle_id):
            return dataclasses.replace(atlas.muscle(muscle_id), stretches=())

    inp = parse_plan_request(request_body(), atlas=atlas, drugs=drugs, template=template)
    plan = build_plan(inp, AtlasWithoutStretches(), drugs, template)
    stretch = next(t for t in plan.day(1).tasks if t.id == "stretch")
    assert "show you how" in stretch.text


# --- conditional branches ---


def test_a_steroid_adds_the_flare_note(make_plan):
    plan = make_plan(injectates=[{"drug": "lidocaine"}, {"drug": "Kenalog"}])
    assert days_with(plan, "steroid_flare") == [0, 1, 2, 3]
    assert "steroid_blood_glucose" not in task_ids(plan)


def test_diabetes_with_a_steroid_adds_the_blood_glucose_note(make_plan):
    plan = make_plan(injectates=[{"drug": "triamcinolone"}], patient={"conditions": ["diabetes"]})
    assert days_with(plan, "steroid_blood_glucose") == [0, 1, 2, 3]
    glucose = next(t for t in plan.day(0).tasks if t.id == "steroid_blood_glucose")
    assert "blood sugar" in glucose.text


def test_diabetes_without_a_steroid_has_no_blood_glucose_note(make_plan):
    plan = make_plan(injectates=[{"drug": "lidocaine"}], patient={"conditions": ["diabetes"]})
    assert "steroid_blood_glucose" not in task_ids(plan)
    assert "steroid_flare" not in task_ids(plan)


def test_hypertension_with_a_steroid_adds_the_blood_pressure_note(make_plan):
    with_steroid = make_plan(
        injectates=[{"drug": "dexamethasone_sodium_phosphate"}], patient={"conditions": ["hypertension"]}
    )
    without = make_plan(patient={"conditions": ["hypertension"]})
    assert "steroid_blood_pressure" in task_ids(with_steroid)
    assert "steroid_blood_pressure" not in task_ids(without)


def test_botulinum_toxin_adds_the_slow_onset_note_and_the_spread_warning(make_plan):
    plan = make_plan(injectates=[{"drug": "Botox"}])
    assert days_with(plan, "botulinum_toxin_onset") == [0]
    assert days_with(plan, "botulinum_toxin_spread") == list(range(11))
    onset = next(t for t in plan.day(0).tasks if t.id == "botulinum_toxin_onset")
    assert "weeks" in onset.text
    assert "steroid_flare" not in task_ids(plan)


def test_a_thoracic_site_names_chest_pain_and_breathing_through_the_warning_window(make_plan, atlas):
    assert atlas.muscle(THORACIC).pneumothorax_risk
    plan = make_plan(sites=[{"muscle": THORACIC, "side": "left"}])
    assert days_with(plan, "warning_chest") == [0, 1, 2, 3, 4, 5]
    chest = next(t for t in plan.day(0).tasks if t.id == "warning_chest")
    assert "chest pain" in chest.text and "breath" in chest.text
    assert atlas.muscle(THORACIC).name.lower() in chest.text.lower()


def test_a_site_away_from_the_thorax_has_no_chest_warning(make_plan, atlas):
    assert not atlas.muscle(NON_THORACIC).pneumothorax_risk
    assert "warning_chest" not in task_ids(make_plan())


def test_physical_therapy_follow_up_appears_only_when_planned(make_plan):
    planned = make_plan(physical_therapy_planned=True)
    assert days_with(planned, "physical_therapy_follow_up") == [1]
    assert "physical_therapy_follow_up" not in task_ids(make_plan(physical_therapy_planned=False))


def test_dry_needling_with_no_injectate_gets_the_base_plan(make_plan):
    plan = make_plan(injectates=[])
    assert {"ice", "heat", "stretch", "warning_signs"} <= task_ids(plan)


# --- wording, articles, contract shape ---


def test_the_clinic_phone_is_named_in_the_warning_signs(make_plan):
    plan = make_plan(clinic={"name": "Maple Pain Clinic", "phone": "555-0100"})
    warning = next(t for t in plan.day(0).tasks if t.id == "warning_signs")
    assert "Maple Pain Clinic at 555-0100" in warning.text


def test_without_a_clinic_the_warning_says_the_clinic(make_plan):
    warning = next(t for t in make_plan().day(0).tasks if t.id == "warning_signs")
    assert "Call the clinic right away" in warning.text


def test_the_plan_can_be_written_in_spanish(make_plan, template):
    plan = make_plan(
        language="es", sites=[{"muscle": THORACIC, "side": "left"}, {"muscle": THORACIC, "side": "right"}]
    )
    texts = {t.id: t.text for day in plan.days for t in day.tasks}
    expected = {task.id: task.text["es"] for task in template.tasks}
    assert texts["ice"] == expected["ice"]
    assert "ambos lados" in texts["stretch"]
    assert plan.language == "es"


def test_plan_links_the_articles_of_its_tasks_once(make_plan):
    plain = make_plan()
    botox = make_plan(injectates=[{"drug": "Botox"}])
    assert "aftercare" in plain.article_ids and "risks-and-warning-signs" in plain.article_ids
    assert len(plain.article_ids) == len(set(plain.article_ids))
    assert "results-and-repeat-injections" in botox.article_ids


def test_as_dict_matches_the_contract(make_plan):
    data = make_plan().as_dict()
    assert data["activity_restriction_until"] == "2026-04-17"
    assert data["warning_window_until"] == "2026-04-19"
    assert [d["date"] for d in data["days"]][:2] == ["2026-04-14", "2026-04-15"]
    for day in data["days"]:
        for task in day["tasks"]:
            assert task["id"] and task["text"] and task["rule"].startswith("AFT-")


def test_the_same_input_gives_the_same_fingerprint_and_another_date_does_not(make_plan):
    assert make_plan().fingerprint == make_plan(language="es").fingerprint
    assert make_plan().fingerprint != make_plan(procedure_date="2026-04-15").fingerprint


# --- dates ---


@pytest.mark.parametrize(
    ("procedure", "restriction", "warning", "last"),
    [
        ("2026-01-29", "2026-02-01", "2026-02-03", "2026-02-08"),  # month end
        ("2026-12-28", "2026-12-31", "2027-01-02", "2027-01-07"),  # year end
        ("2028-02-27", "2028-03-01", "2028-03-03", "2028-03-08"),  # leap February
        ("2027-02-27", "2027-03-02", "2027-03-04", "2027-03-09"),  # common February
        ("2026-03-07", "2026-03-10", "2026-03-12", "2026-03-17"),  # US DST starts 2026-03-08
        ("2026-10-31", "2026-11-03", "2026-11-05", "2026-11-10"),  # US DST ends 2026-11-01
    ],
)
def test_dates_cross_month_year_and_dst_boundaries(make_plan, procedure, restriction, warning, last):
    plan = make_plan(procedure_date=procedure)
    assert plan.activity_restriction_until.isoformat() == restriction
    assert plan.warning_window_until.isoformat() == warning
    assert plan.days[-1].date.isoformat() == last
    assert plan.day(plan.days[-1].day_number).date.isoformat() == last


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_plan_days_are_consecutive_calendar_days_from_the_procedure(atlas, drugs, template, procedure):
    inp = PlanInput(procedure_date=procedure, sites=(Site("masseter", "left"),), injectates=("lidocaine",))
    plan = build_plan(inp, atlas, drugs, template)
    assert plan.days[0].date == procedure
    for earlier, later in zip(plan.days, plan.days[1:], strict=False):
        assert later.date.toordinal() - earlier.date.toordinal() == 1
    assert plan.activity_restriction_until == plan.day(3).date
    assert plan.warning_window_until == plan.day(5).date


# --- bad input (the API answers these with 4xx) ---


def problems_for(body, atlas, drugs, template) -> list[str]:
    with pytest.raises(RuleInputError) as caught:
        parse_plan_request(body, atlas=atlas, drugs=drugs, template=template)
    return caught.value.problems


@pytest.mark.parametrize("bad_date", ["2026-02-30", "03/08/2026", "2026-3-8", "20260308", 20260308, None, ""])
def test_a_bad_procedure_date_is_refused(atlas, drugs, template, bad_date):
    problems = problems_for(request_body(procedure_date=bad_date), atlas, drugs, template)
    assert any(p.startswith("procedure_date") for p in problems)


def test_every_missing_field_is_listed_at_once(atlas, drugs, template):
    problems = problems_for({}, atlas, drugs, template)
    assert {p.split(":")[0] for p in problems} == {"procedure_date", "sites", "injectates", "patient"}


def test_unknown_muscle_drug_condition_and_side_are_all_reported_with_allowed_values(atlas, drugs, template):
    body = request_body(
        sites=[{"muscle": "trapezius_upper", "side": "left"}, {"muscle": NON_THORACIC, "side": "bilateral"}],
        injectates=[{"drug": "unobtainium"}],
        patient={"conditions": ["diabetis"]},
    )
    problems = problems_for(body, atlas, drugs, template)
    text = " | ".join(problems)
    assert "trapezius_upper" in text and THORACIC in text  # allowed muscle ids listed
    assert "unobtainium" in text and "triamcinolone" in text
    assert "diabetis" in text and "diabetes" in text
    assert "bilateral" in text
    assert len(problems) == 4


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"sites": []}, "sites"),
        ({"sites": "upper_trapezius"}, "sites"),
        ({"injectates": None}, "injectates"),
        ({"injectates": [{"dose": 1}]}, "injectates[0].drug"),
        ({"patient": {}}, "patient.conditions"),
        ({"physical_therapy_planned": "yes"}, "physical_therapy_planned"),
        ({"language": "fr"}, "language"),
        ({"clinic": {"phone": ""}}, "clinic.phone"),
        ({"procedure": "2026-04-14"}, "unknown fields"),
    ],
)
def test_malformed_fields_are_refused(atlas, drugs, template, override, field):
    problems = problems_for(request_body(**override), atlas, drugs, template)
    assert any(p.startswith(field) for p in problems), problems


def test_a_non_object_body_is_refused(atlas, drugs, template):
    with pytest.raises(RuleInputError):
        parse_plan_request(["not", "an", "object"], atlas=atlas, drugs=drugs, template=template)


def test_drug_names_and_synonyms_resolve_to_catalogue_ids(atlas, drugs, template):
    inp = parse_plan_request(
        request_body(injectates=[{"drug": "Xylocaine"}, {"drug": "lidocaine"}, {"drug": "Kenalog-40"}]),
        atlas=atlas,
        drugs=drugs,
        template=template,
    )
    assert inp.injectates == ("lidocaine", "triamcinolone")


def test_build_plan_refuses_a_hand_built_input_with_unknown_facts(atlas, drugs, template):
    inp = PlanInput(
        procedure_date=date(2026, 4, 14) + timedelta(days=0),
        sites=(Site("no_such_muscle", "left"),),
        injectates=("no_such_drug",),
        conditions=frozenset({"no_such_condition"}),
    )
    with pytest.raises(RuleInputError) as caught:
        build_plan(inp, atlas, drugs, template)
    assert len(caught.value.problems) == 3


def test_a_stored_plan_reads_back_as_the_same_plan(make_plan):
    from triggerpoint.aftercare.plan import AftercarePlan

    plan = make_plan(
        sites=[{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
        injectates=[{"drug": "triamcinolone"}],
        language="es",
    )
    again = AftercarePlan.from_dict(plan.as_dict())
    assert again.as_dict() == plan.as_dict()
    assert again.fingerprint == plan.fingerprint
