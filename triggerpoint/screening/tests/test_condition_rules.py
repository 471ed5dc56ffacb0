"""Issue 14: immunosuppression, red flags, magnesium cautions, bilateral chest-wall sites (literal values)."""

import pytest

from triggerpoint.screening.tests.builders import findings_of, payload, screen, severities_of

STEROID = {"injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}]}
MAGNESIUM = {"injectates": [{"drug": "magnesium_sulfate"}]}


def test_immunosuppression_is_a_finding_that_stops_ready():
    result = screen(payload(patient={"conditions": ["immunosuppression"]}))
    (finding,) = findings_of(result, "SCR-IMMUNOSUPPRESSION")
    assert finding.severity == "review"
    assert "steroid" not in finding.message.lower()
    assert result.status == "review"


def test_immunosuppression_with_a_steroid_says_to_consider_leaving_it_out():
    (finding,) = findings_of(screen(payload(patient={"conditions": ["immunosuppression"]}, plan=STEROID)), "SCR-IMMUNOSUPPRESSION")
    assert "leaving it out" in finding.message
    assert finding.data["steroid_planned"] is True


def test_an_immunosuppressant_medicine_counts_as_immunosuppression():
    body = payload(patient={"medications": [{"name": "methotrexate", "drug_class": "immunosuppressant"}]})
    assert severities_of(screen(body), "SCR-IMMUNOSUPPRESSION") == ["review"]


def test_no_immunosuppression_no_finding():
    assert findings_of(screen(payload()), "SCR-IMMUNOSUPPRESSION") == []


@pytest.mark.parametrize(
    "flag, severity",
    [
        ("suspected_malignancy", "defer"),
        ("new_neurological_deficit", "defer"),
        ("fracture", "defer"),
        ("recent_trauma_at_site", "review"),
        ("recent_surgery_at_site", "review"),
    ],
)
def test_each_red_flag_has_its_severity(flag, severity):
    result = screen(payload(patient={"conditions": [flag]}))
    assert severities_of(result, "SCR-RED-FLAG") == [severity]
    assert result.status == severity


@pytest.mark.parametrize(
    "condition, severity",
    [("heart_block", "contraindicated"), ("kidney_impairment", "review"), ("myasthenia_gravis", "review")],
)
def test_magnesium_cautions(condition, severity):
    assert severities_of(screen(payload(patient={"conditions": [condition]}, plan=MAGNESIUM)), "SCR-MAGNESIUM-CAUTION") == [severity]


def test_heart_block_without_magnesium_raises_no_magnesium_finding():
    assert findings_of(screen(payload(patient={"conditions": ["heart_block"]})), "SCR-MAGNESIUM-CAUTION") == []


def test_chest_wall_sites_on_both_sides_need_review_even_under_ultrasound():
    plan = {
        "sites": [{"muscle": "rhomboids", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
        "guidance": "ultrasound",
    }
    result = screen(payload(plan=plan))
    assert severities_of(result, "SCR-PNEUMOTHORAX-BILATERAL") == ["review"]
    assert result.status == "review"


def test_chest_wall_sites_on_one_side_are_not_bilateral():
    plan = {
        "sites": [{"muscle": "rhomboids", "side": "left"}, {"muscle": "upper_trapezius", "side": "left"},
                  {"muscle": "gluteus_medius", "side": "right"}],
        "guidance": "ultrasound",
    }
    assert findings_of(screen(payload(plan=plan)), "SCR-PNEUMOTHORAX-BILATERAL") == []
