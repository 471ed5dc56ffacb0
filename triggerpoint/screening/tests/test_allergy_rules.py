"""Allergy to a planned injectate, with cross-reactivity by class and the alternatives that remain."""

import pytest

from triggerpoint.screening.tests.builders import findings_of, payload, screen


def plan_with(*drugs, allergies):
    return payload(
        patient={"allergies": list(allergies)},
        plan={"injectates": [{"drug": drug} for drug in drugs]},
    )


def contraindications(result):
    return [f for f in findings_of(result, "SCR-ALLERGY-INJECTATE") if f.severity == "contraindicated"]


def test_an_allergy_to_the_planned_drug_is_a_contraindication():
    result = screen(plan_with("lidocaine", allergies=["Lidocaine"]))
    (finding,) = contraindications(result)
    assert result.status == "contraindicated"
    assert finding.data["drug"] == "lidocaine"
    assert "same drug" in finding.message


def test_a_brand_name_allergy_resolves_through_the_catalogue():
    (finding,) = contraindications(screen(plan_with("lidocaine", allergies=["xylocaine"])))
    assert finding.data["drug"] == "lidocaine"


@pytest.mark.parametrize("allergy, planned", [
    ("lidocaine", "bupivacaine"),
    ("bupivacaine", "ropivacaine"),
    ("ropivacaine", "mepivacaine"),
    ("procaine", "chloroprocaine"),
    ("triamcinolone", "methylprednisolone_acetate"),
    ("onabotulinumtoxinA", "incobotulinumtoxinA"),
])
def test_an_allergy_counts_against_the_whole_class(allergy, planned):
    (finding,) = contraindications(screen(plan_with(planned, allergies=[allergy])))
    assert finding.data["drug"] == planned
    assert "cross-reactivity" in finding.message


@pytest.mark.parametrize("allergy, planned", [("lidocaine", "procaine"), ("procaine", "lidocaine"), ("lidocaine", "saline")])
def test_an_allergy_does_not_cross_to_another_class(allergy, planned):
    result = screen(plan_with(planned, allergies=[allergy]))
    assert contraindications(result) == []
    assert result.status == "ready"


@pytest.mark.parametrize("word, planned", [
    ("amide anesthetics", "bupivacaine"),
    ("Amide local anaesthetic", "lidocaine"),
    ("local anesthetic", "procaine"),
    ("steroids", "triamcinolone"),
    ("cortisone", "dexamethasone_sodium_phosphate"),
    ("Botox", "abobotulinumtoxinA"),
])
def test_class_words_match_every_drug_of_the_class(word, planned):
    assert [f.data["drug"] for f in contraindications(screen(plan_with(planned, allergies=[word])))] == [planned]


def test_a_known_caine_outside_the_catalogue_matches_by_its_class():
    assert contraindications(screen(plan_with("lidocaine", allergies=["articaine"])))
    assert contraindications(screen(plan_with("procaine", allergies=["benzocaine"])))
    assert not contraindications(screen(plan_with("lidocaine", allergies=["benzocaine"])))


def test_an_unknown_caine_asks_the_clinician_to_identify_its_class():
    result = screen(plan_with("lidocaine", allergies=["zorbocaine"]))
    assert [f.severity for f in findings_of(result, "SCR-ALLERGY-INJECTATE")] == ["review"]
    assert result.status == "review"


def test_an_unknown_caine_is_only_information_when_no_local_anesthetic_is_planned():
    result = screen(plan_with("saline", allergies=["zorbocaine"]))
    assert [f.severity for f in findings_of(result, "SCR-ALLERGY-INJECTATE")] == ["info"]


def test_allergies_that_match_no_injectate_need_a_person_to_confirm_them():
    """Issue 14: an unmatched allergy is a review (SCR-ALLERGY-UNMATCHED), no longer a silent info line."""
    result = screen(plan_with("lidocaine", allergies=["penicillin", "lidocain"]))
    assert findings_of(result, "SCR-ALLERGY-INJECTATE") == []
    (finding,) = findings_of(result, "SCR-ALLERGY-UNMATCHED")
    assert finding.severity == "review"
    assert finding.data["allergies"] == ["penicillin", "lidocain"]
    assert result.status == "review"


def test_the_alternatives_that_remain_are_suggested():
    (finding,) = contraindications(screen(plan_with("lidocaine", allergies=["lidocaine"])))
    alternatives = finding.data["alternatives"]
    assert "saline injection" in alternatives
    assert "dry needling" in alternatives
    assert any("Procaine" in option for option in alternatives)
    assert not any("Bupivacaine" in option for option in alternatives)


def test_no_local_anesthetic_is_suggested_to_a_patient_allergic_to_both_classes():
    (finding,) = contraindications(screen(plan_with("lidocaine", allergies=["lidocaine", "procaine"])))
    assert finding.data["alternatives"] == ["saline injection", "dry needling"]


def test_each_planned_drug_hit_by_an_allergy_is_its_own_finding():
    result = screen(plan_with("lidocaine", "triamcinolone", allergies=["lidocaine", "steroids"]))
    assert sorted(f.data["drug"] for f in contraindications(result)) == ["lidocaine", "triamcinolone"]
