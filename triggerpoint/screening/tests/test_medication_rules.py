"""Blood thinners: continue by default; physician review when bleeding risk is high."""

import pytest

from triggerpoint.screening.tests.builders import findings_of, payload, screen

DRUGS_ON_FILE = [
    ("warfarin", "anticoagulant"), ("Eliquis", "anticoagulant"), ("rivaroxaban", "anticoagulant"),
    ("Pradaxa", "anticoagulant"), ("edoxaban", "anticoagulant"), ("heparin", "anticoagulant"),
    ("Lovenox", "anticoagulant"), ("clopidogrel", "antiplatelet"), ("Effient", "antiplatelet"),
    ("ticagrelor", "antiplatelet"), ("aspirin", "antiplatelet"),
]


def on(name, drug_class, **patient):
    # A compressible site: at the baseline's quadratus lumborum (deep, non-compressible) any blood thinner is
    # now SCR-DEEP-SITE-BLEEDING review (issue 14; test_bleeding_rules.py), which is not what these tests are about.
    return payload(
        patient={"medications": [{"name": name, "drug_class": drug_class}], **patient},
        plan={"sites": [{"muscle": "iliocostalis_lumborum", "side": "left"}]},
    )


@pytest.mark.parametrize("name, drug_class", DRUGS_ON_FILE)
def test_it_says_to_continue_a_blood_thinner_by_default(name, drug_class):
    result = screen(on(name, drug_class))
    (finding,) = findings_of(result, "SCR-ANTICOAGULANT")
    assert finding.severity == "info"
    assert "continue" in finding.message
    assert "blood_thinner" in finding.data
    assert "stopping" in finding.message and "own risk" in finding.message
    assert "Endres" in finding.basis
    assert result.status == "ready"


@pytest.mark.parametrize("name, drug_class", DRUGS_ON_FILE)
def test_it_asks_for_review_when_the_physician_marked_high_bleeding_risk(name, drug_class):
    (finding,) = findings_of(screen(on(name, drug_class, high_bleeding_risk=True)), "SCR-ANTICOAGULANT")
    assert finding.severity == "review"
    assert "physician decides" in finding.message
    assert "for reference only" in finding.message


def test_it_asks_for_review_when_a_bleeding_disorder_is_recorded():
    result = screen(on("apixaban", "anticoagulant", conditions=["bleeding_disorder"]))
    assert [f.severity for f in findings_of(result, "SCR-ANTICOAGULANT")] == ["review"]
    assert [f.severity for f in findings_of(result, "SCR-BLEEDING-DISORDER")] == ["review"]


def test_a_blood_thinner_not_on_file_is_still_recognised_by_its_class():
    (finding,) = findings_of(screen(on("fondaparinux", "anticoagulant")), "SCR-ANTICOAGULANT")
    assert finding.severity == "info"
    assert "No drug-specific information" in finding.message


def test_aspirin_filed_as_an_nsaid_is_still_treated_as_a_blood_thinner():
    (finding,) = findings_of(screen(on("Aspirin", "nsaid")), "SCR-ANTICOAGULANT")
    assert finding.data["blood_thinner"] == "aspirin"


def test_other_medications_raise_nothing():
    assert findings_of(screen(on("ibuprofen", "nsaid")), "SCR-ANTICOAGULANT") == []
