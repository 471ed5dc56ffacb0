"""Issue 14: botulinum toxin screening at its boundaries (literal values)."""

import pytest

from triggerpoint.screening.rules_toxin import is_aminoglycoside
from triggerpoint.screening.tests.builders import days_before, findings_of, payload, screen, severities_of

TOXIN = {"injectates": [{"drug": "onabotulinumtoxinA"}]}
LIDOCAINE = {"injectates": [{"drug": "lidocaine"}]}


@pytest.mark.parametrize("condition", ["myasthenia_gravis", "lambert_eaton", "als"])
def test_neuromuscular_junction_disease_contraindicates_a_toxin(condition):
    result = screen(payload(patient={"conditions": [condition]}, plan=TOXIN))
    assert severities_of(result, "SCR-TOXIN-NMJ") == ["contraindicated"]
    assert result.status == "contraindicated"


def test_neuromuscular_junction_disease_without_a_toxin_raises_no_toxin_finding():
    assert findings_of(screen(payload(patient={"conditions": ["myasthenia_gravis"]}, plan=LIDOCAINE)), "SCR-TOXIN-NMJ") == []


@pytest.mark.parametrize("name", ["gentamicin", "Tobramycin 80 mg", "AMIKACIN", "neomycin"])
def test_an_aminoglycoside_with_a_toxin_needs_review(name):
    body = payload(patient={"medications": [{"name": name, "drug_class": "antibiotic"}]}, plan=TOXIN)
    assert severities_of(screen(body), "SCR-TOXIN-AMINOGLYCOSIDE") == ["review"]


def test_another_antibiotic_with_a_toxin_is_not_an_aminoglycoside():
    body = payload(patient={"medications": [{"name": "amoxicillin", "drug_class": "antibiotic"}]}, plan=TOXIN)
    assert findings_of(screen(body), "SCR-TOXIN-AMINOGLYCOSIDE") == []
    assert is_aminoglycoside("azithromycin") is False


def test_pregnancy_with_a_toxin_defers():
    body = payload(patient={"sex": "female", "pregnant": True, "breastfeeding": False}, plan=TOXIN)
    assert severities_of(screen(body), "SCR-TOXIN-PREGNANCY") == ["defer"]


def test_breastfeeding_with_a_toxin_defers():
    body = payload(patient={"sex": "female", "breastfeeding": True}, plan=TOXIN)
    result = screen(body)
    assert severities_of(result, "SCR-TOXIN-PREGNANCY") == ["defer"]
    assert result.status == "defer"


def test_breastfeeding_never_asked_with_a_toxin_is_a_review():
    (finding,) = findings_of(screen(payload(patient={"sex": "female"}, plan=TOXIN)), "SCR-TOXIN-PREGNANCY")
    assert finding.severity == "review"
    assert finding.data["reason"] == "breastfeeding_not_asked"


def test_not_breastfeeding_and_not_pregnant_raises_no_toxin_pregnancy_finding():
    body = payload(patient={"sex": "female", "breastfeeding": False}, plan=TOXIN)
    assert findings_of(screen(body), "SCR-TOXIN-PREGNANCY") == []


def test_a_toxin_dose_83_days_before_is_too_soon():
    result = screen(payload(plan=TOXIN, history={"last_botulinum_toxin_date": days_before(83)}))
    (finding,) = findings_of(result, "SCR-TOXIN-INTERVAL")
    assert finding.severity == "defer"
    assert finding.data["days_since"] == 83
    assert "2025-04-08" in finding.message and "Wait until 2025-07-01" in finding.message  # 2025-04-08 + 84 days


def test_a_toxin_dose_84_days_before_is_allowed():
    result = screen(payload(plan=TOXIN, history={"last_botulinum_toxin_date": days_before(84)}))
    assert findings_of(result, "SCR-TOXIN-INTERVAL") == []


def test_a_recent_toxin_dose_does_not_matter_when_no_toxin_is_planned():
    result = screen(payload(plan=LIDOCAINE, history={"last_botulinum_toxin_date": days_before(10)}))
    assert findings_of(result, "SCR-TOXIN-INTERVAL") == []


def test_a_last_toxin_date_after_the_procedure_is_refused():
    from triggerpoint.core.rules import RuleInputError

    with pytest.raises(RuleInputError) as error:
        screen(payload(plan=TOXIN, history={"last_botulinum_toxin_date": "2025-07-01"}))
    assert "history.last_botulinum_toxin_date 2025-07-01 is after the procedure date" in error.value.problems[0]
