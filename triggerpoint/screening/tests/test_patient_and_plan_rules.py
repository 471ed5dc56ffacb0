"""Pregnancy, widespread pain, steroids with diabetes/glucose/counts, thoracic sites, botulinum toxin, fainting."""

import pytest

from triggerpoint.screening.rules import ScreeningPolicy
from triggerpoint.screening.tests.builders import findings_of, payload, screen, severities_of

STEROID_PLAN = {"injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}]}
THORACIC_PLAN = {"sites": [{"muscle": "rhomboids", "side": "right"}]}


def test_pregnancy_asks_for_review():
    result = screen(payload(patient={"sex": "female", "pregnant": True}))
    assert severities_of(result, "SCR-PREGNANCY") == ["review"]
    assert result.status == "review"


@pytest.mark.parametrize("condition", ["fibromyalgia", "widespread_pain"])
def test_widespread_pain_without_documented_trigger_points_asks_for_review(condition):
    assert severities_of(screen(payload(patient={"conditions": [condition]})), "SCR-WIDESPREAD-PAIN") == ["review"]
    body = payload(patient={"conditions": [condition]}, plan={"trigger_points_documented": False})
    assert severities_of(screen(body), "SCR-WIDESPREAD-PAIN") == ["review"]


def test_widespread_pain_with_documented_trigger_points_is_not_flagged():
    body = payload(patient={"conditions": ["fibromyalgia"]}, plan={"trigger_points_documented": True})
    assert screen(body).status == "ready"


def test_diabetes_with_a_planned_steroid_is_information_about_glucose():
    (finding,) = findings_of(screen(payload(patient={"conditions": ["diabetes"]}, plan=STEROID_PLAN)), "SCR-STEROID-DIABETES")
    assert finding.severity == "info"
    assert "3 days" in finding.message


def test_diabetes_without_a_steroid_is_not_flagged():
    assert screen(payload(patient={"conditions": ["diabetes"]})).findings == ()


@pytest.mark.parametrize("glucose, expected", [(200, []), (200.0, []), (200.5, ["review"]), (201, ["review"]), (350, ["review"])])
def test_glucose_above_200_with_a_planned_steroid_asks_for_review(glucose, expected):
    body = payload(today={"blood_glucose_mg_dl": glucose}, plan=STEROID_PLAN)
    assert severities_of(screen(body), "SCR-STEROID-GLUCOSE") == expected


def test_high_glucose_without_a_steroid_is_not_flagged():
    assert severities_of(screen(payload(today={"blood_glucose_mg_dl": 320})), "SCR-STEROID-GLUCOSE") == []


@pytest.mark.parametrize("muscle", ["rhomboids", "upper_trapezius", "serratus_anterior", "intercostals", "scalenes"])
def test_a_thoracic_site_by_landmark_needs_review_recommending_ultrasound(muscle):
    """Issue 14 (SCR-PNEUMOTHORAX-SITE v2): landmark needling over the chest wall is review, no longer info."""
    result = screen(payload(plan={"sites": [{"muscle": muscle, "side": "left"}]}))
    (finding,) = findings_of(result, "SCR-PNEUMOTHORAX-SITE")
    assert finding.severity == "review"
    assert "Ultrasound guidance is recommended" in finding.message
    assert "consent" in finding.message
    assert result.status == "review"


@pytest.mark.parametrize("muscle", ["rhomboids", "upper_trapezius", "serratus_anterior", "intercostals", "scalenes"])
def test_the_same_thoracic_site_under_ultrasound_is_information(muscle):
    result = screen(payload(plan={"sites": [{"muscle": muscle, "side": "left"}], "guidance": "ultrasound"}))
    assert severities_of(result, "SCR-PNEUMOTHORAX-SITE") == ["info"]
    assert result.status == "ready"


def test_a_thoracic_site_under_ultrasound_says_so():
    (finding,) = findings_of(screen(payload(plan={**THORACIC_PLAN, "guidance": "ultrasound"})), "SCR-PNEUMOTHORAX-SITE")
    assert "Ultrasound guidance is planned" in finding.message


def test_a_lumbar_site_raises_no_pneumothorax_finding():
    assert findings_of(screen(payload()), "SCR-PNEUMOTHORAX-SITE") == []


@pytest.mark.parametrize("patient", [{"conditions": ["copd"]}, {"conditions": ["thin_habitus"]}, {"bmi": 18.4}])
def test_a_thoracic_site_with_a_risk_factor_asks_for_review(patient):
    assert severities_of(screen(payload(patient=patient, plan=THORACIC_PLAN)), "SCR-PNEUMOTHORAX-SITE") == ["review"]


def test_a_bmi_of_exactly_18_5_is_not_a_risk_factor():
    ultrasound = {**THORACIC_PLAN, "guidance": "ultrasound"}  # landmark alone is review since issue 14
    assert severities_of(screen(payload(patient={"bmi": 18.5}, plan=ultrasound)), "SCR-PNEUMOTHORAX-SITE") == ["info"]


def test_a_bmi_just_under_18_5_is_a_risk_factor_even_under_ultrasound():
    ultrasound = {**THORACIC_PLAN, "guidance": "ultrasound"}
    assert severities_of(screen(payload(patient={"bmi": 18.4}, plan=ultrasound)), "SCR-PNEUMOTHORAX-SITE") == ["review"]


def test_smoking_raises_the_pneumothorax_finding_under_ultrasound():
    ultrasound = {**THORACIC_PLAN, "guidance": "ultrasound"}
    (finding,) = findings_of(screen(payload(patient={"conditions": ["smoker"]}, plan=ultrasound)), "SCR-PNEUMOTHORAX-SITE")
    assert finding.severity == "review"
    assert "smoker" in finding.message


def test_copd_without_a_thoracic_site_is_not_flagged():
    assert screen(payload(patient={"conditions": ["copd"]})).findings == ()


def test_botulinum_toxin_is_information_about_off_label_use_and_authorization():
    result = screen(payload(plan={"injectates": [{"drug": "Botox"}]}))
    (finding,) = findings_of(result, "SCR-BOTULINUM-TOXIN")
    assert finding.severity == "info"
    assert "off-label" in finding.message and "authorization" in finding.message


def test_a_prior_vasovagal_reaction_is_information_to_treat_lying_down():
    (finding,) = findings_of(screen(payload(patient={"conditions": ["prior_vasovagal"]})), "SCR-VASOVAGAL")
    assert finding.severity == "info"
    assert "lying down" in finding.message


@pytest.mark.parametrize("prior, expected", [(0, []), (3, []), (4, ["review"]), (9, ["review"])])
def test_a_steroid_beyond_the_fourth_in_a_series_asks_for_review(prior, expected):
    body = payload(plan=STEROID_PLAN, history={"steroid_injections_in_series": prior})
    assert severities_of(screen(body), "SCR-STEROID-SERIES") == expected


@pytest.mark.parametrize("prior, expected", [(0, []), (3, []), (4, ["review"])])
def test_a_steroid_beyond_the_yearly_count_asks_for_review(prior, expected):
    body = payload(plan=STEROID_PLAN, history={"steroid_injections_last_12_months": prior})
    assert severities_of(screen(body), "SCR-STEROID-YEARLY") == expected


def test_a_clinic_may_set_its_own_yearly_steroid_count():
    body = payload(plan=STEROID_PLAN, history={"steroid_injections_last_12_months": 2})
    assert severities_of(screen(body, ScreeningPolicy(steroid_yearly_max=2)), "SCR-STEROID-YEARLY") == ["review"]
    assert severities_of(screen(body, ScreeningPolicy(steroid_yearly_max=3)), "SCR-STEROID-YEARLY") == []


def test_steroid_counts_do_not_matter_without_a_planned_steroid():
    body = payload(history={"steroid_injections_last_12_months": 12, "steroid_injections_in_series": 12})
    assert screen(body).status == "ready"


def test_a_missing_steroid_history_is_said_not_silently_passed():
    body = payload(plan=STEROID_PLAN)
    del body["history"]
    (finding,) = findings_of(screen(body), "SCR-STEROID-YEARLY")
    assert finding.severity == "info"
    assert "not checked" in finding.message
