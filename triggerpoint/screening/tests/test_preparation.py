"""Patient preparation instructions: plain language, fitted to the patient and the plan."""

from datetime import date

from triggerpoint.screening.content import load_preparation_instructions
from triggerpoint.screening.preparation import build_preparation, patient_date
from triggerpoint.screening.rules import ScreeningPolicy, parse_screening_request
from triggerpoint.screening.tests.builders import PROCEDURE_DATE, payload
from triggerpoint.screening.tests.readability import MAX_GRADE, reading_grade


def instructions_for(policy=None, **sections):
    inp = parse_screening_request(payload(**sections))
    args = (inp.patient, inp.plan, inp.procedure_date) + ((policy,) if policy else ())
    return {instruction.id: instruction.text for instruction in build_preparation(*args)}


def test_every_patient_is_told_what_to_bring_to_report_illness_and_to_come_healthy():
    texts = instructions_for()
    assert {"what_to_bring", "report_recent_illness", "come_healthy", "keep_taking_medicines"} <= set(texts)
    assert "fever" in texts["report_recent_illness"] and "antibiotics" in texts["report_recent_illness"]


def test_the_illness_question_starts_28_days_before_the_procedure():
    assert patient_date(date(2025, 6, 2)) in instructions_for()["report_recent_illness"]
    assert patient_date(PROCEDURE_DATE) in instructions_for()["come_healthy"]


def test_the_illness_question_follows_the_clinic_window():
    text = instructions_for(ScreeningPolicy(recent_event_window_days=14))["report_recent_illness"]
    assert patient_date(date(2025, 6, 16)) in text


def test_a_patient_on_a_blood_thinner_is_told_to_keep_taking_it_unless_the_physician_said_otherwise():
    texts = instructions_for(patient={"medications": [{"name": "Eliquis", "drug_class": "anticoagulant"}]})
    assert "Keep taking your blood thinner (Eliquis) unless your doctor told you to stop it" in texts["blood_thinner"]


def test_a_patient_without_a_blood_thinner_gets_no_blood_thinner_text():
    assert "blood_thinner" not in instructions_for()


def test_a_diabetic_patient_with_a_steroid_is_told_about_blood_sugar():
    texts = instructions_for(patient={"conditions": ["diabetes"]}, plan={"injectates": [{"drug": "triamcinolone"}]})
    assert "3 days" in texts["steroid_and_diabetes"]
    assert "steroid_and_diabetes" not in instructions_for(patient={"conditions": ["diabetes"]})


def test_a_patient_who_fainted_before_is_told_they_will_lie_down():
    assert "lying down" in instructions_for(patient={"conditions": ["prior_vasovagal"]})["fainting_before"]


def test_only_female_patients_are_asked_about_pregnancy():
    assert "pregnancy" in instructions_for(patient={"sex": "female"})
    assert "pregnancy" not in instructions_for(patient={"sex": "male"})


def test_a_botulinum_toxin_plan_mentions_insurance_approval():
    assert "botulinum_toxin_approval" in instructions_for(plan={"injectates": [{"drug": "Botox"}]})
    assert "botulinum_toxin_approval" not in instructions_for()


def test_every_instruction_reads_at_grade_8_or_lower():
    values = {"window_start": "Monday, June 2, 2025", "procedure_date": "Monday, June 30, 2025",
              "blood_thinners": "Eliquis", "glucose_watch_days": "3"}
    for entry in load_preparation_instructions().entries:
        text = entry.text.format(**values)
        assert reading_grade(text) <= MAX_GRADE, (entry.id, reading_grade(text))


def test_the_whole_handout_reads_at_grade_8_or_lower():
    texts = instructions_for(
        patient={"sex": "female", "conditions": ["diabetes", "prior_vasovagal"],
                 "medications": [{"name": "warfarin", "drug_class": "anticoagulant"}]},
        plan={"injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}]},
    )
    assert reading_grade(" ".join(texts.values())) <= MAX_GRADE
