"""Issue 14: deep non-compressible sites, dual antithrombotic therapy and a high INR (literal values)."""

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.rules_bleeding import haematoma_warning_needed
from triggerpoint.screening.tests.builders import days_before, findings_of, payload, screen, severities_of

APIXABAN = {"name": "apixaban", "drug_class": "anticoagulant"}
CLOPIDOGREL = {"name": "clopidogrel", "drug_class": "antiplatelet"}
ASPIRIN = {"name": "aspirin", "drug_class": "antiplatelet"}


def at(muscle, *medications, inr=None):
    patient = {"medications": list(medications)}
    if inr is not None:
        patient["inr"] = inr
    return payload(patient=patient, plan={"sites": [{"muscle": muscle, "side": "left"}]})


@pytest.mark.parametrize(
    "muscle", ["gluteus_maximus", "gluteus_medius", "gluteus_minimus", "piriformis", "quadratus_lumborum", "iliopsoas", "multifidus"]
)
def test_a_deep_site_with_a_blood_thinner_needs_review_and_a_haematoma_warning(muscle):
    result = screen(at(muscle, CLOPIDOGREL))
    (finding,) = findings_of(result, "SCR-DEEP-SITE-BLEEDING")
    assert finding.severity == "review"
    assert finding.data["aftercare_warning"] == "haematoma"
    assert result.status == "review"


def test_a_compressible_site_with_a_blood_thinner_stays_ready():
    result = screen(at("iliocostalis_lumborum", CLOPIDOGREL))
    assert findings_of(result, "SCR-DEEP-SITE-BLEEDING") == []
    assert result.status == "ready"


def test_a_deep_site_without_a_blood_thinner_raises_nothing():
    assert findings_of(screen(at("piriformis")), "SCR-DEEP-SITE-BLEEDING") == []


def test_two_blood_thinners_are_dual_therapy():
    result = screen(at("iliocostalis_lumborum", APIXABAN, ASPIRIN))
    assert severities_of(result, "SCR-DUAL-ANTITHROMBOTIC") == ["review"]


def test_one_blood_thinner_is_not_dual_therapy():
    assert findings_of(screen(at("iliocostalis_lumborum", APIXABAN)), "SCR-DUAL-ANTITHROMBOTIC") == []


def test_the_same_drug_listed_twice_is_not_dual_therapy():
    result = screen(at("iliocostalis_lumborum", CLOPIDOGREL, {"name": "Plavix", "drug_class": "antiplatelet"}))
    assert findings_of(result, "SCR-DUAL-ANTITHROMBOTIC") == []


def test_an_inr_at_the_upper_limit_is_not_flagged():
    result = screen(at("iliocostalis_lumborum", inr={"value": 3.0, "date": days_before(2)}))
    assert findings_of(result, "SCR-INR-ABOVE-RANGE") == []


def test_an_inr_just_above_the_upper_limit_needs_review():
    result = screen(at("iliocostalis_lumborum", inr={"value": 3.1, "date": days_before(2)}))
    assert severities_of(result, "SCR-INR-ABOVE-RANGE") == ["review"]


def test_a_high_inr_28_days_old_still_counts():
    result = screen(at("iliocostalis_lumborum", inr={"value": 4.2, "date": days_before(28)}))
    assert severities_of(result, "SCR-INR-ABOVE-RANGE") == ["review"]


def test_a_high_inr_29_days_old_is_only_information():
    result = screen(at("iliocostalis_lumborum", inr={"value": 4.2, "date": days_before(29)}))
    assert severities_of(result, "SCR-INR-ABOVE-RANGE") == ["info"]


def test_a_recent_high_inr_at_a_deep_site_adds_the_haematoma_warning():
    (finding,) = findings_of(screen(at("gluteus_medius", inr={"value": 3.5, "date": days_before(1)})), "SCR-DEEP-SITE-BLEEDING")
    assert finding.data["inr_above_range"] is True


def test_an_implausible_inr_is_refused():
    with pytest.raises(RuleInputError) as error:
        screen(at("gluteus_medius", inr={"value": 35, "date": days_before(1)}))
    assert "patient.inr.value 35 is outside the plausible range" in error.value.problems[0]


def test_the_haematoma_warning_test_is_site_and_thinner():
    assert haematoma_warning_needed(True, 1, False) is True
    assert haematoma_warning_needed(True, 0, True) is True
    assert haematoma_warning_needed(True, 0, False) is False
    assert haematoma_warning_needed(False, 2, True) is False
