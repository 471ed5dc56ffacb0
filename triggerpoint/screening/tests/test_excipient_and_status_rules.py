"""Issue 14: allergy status (unknown vs NKDA), excipient allergies, unmatched allergies (literal values)."""

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.tests.builders import findings_of, payload, screen, severities_of


def plan(*injectates, allergies=(), **patient):
    return payload(
        patient={"allergies": list(allergies), **patient},
        plan={"injectates": [item if isinstance(item, dict) else {"drug": item} for item in injectates]},
    )


# --- allergy status ---------------------------------------------------------------------------------

def test_screening_is_not_ready_while_allergy_status_was_never_recorded():
    result = screen(payload(patient={"allergy_status": "unknown"}))
    assert severities_of(result, "SCR-ALLERGY-STATUS") == ["review"]
    assert "not recorded" in findings_of(result, "SCR-ALLERGY-STATUS")[0].message
    assert result.status == "review"


def test_recorded_no_known_drug_allergies_is_ready():
    result = screen(payload(patient={"allergy_status": "nkda"}))
    assert findings_of(result, "SCR-ALLERGY-STATUS") == []
    assert result.status == "ready"


def test_a_missing_allergy_status_is_refused_not_taken_as_none():
    body = payload()
    del body["patient"]["allergy_status"]
    with pytest.raises(RuleInputError) as error:
        screen(body)
    assert error.value.problems == ["patient.allergy_status is required"]


def test_nkda_with_a_listed_allergy_is_refused_as_a_contradiction():
    with pytest.raises(RuleInputError) as error:
        screen(payload(patient={"allergy_status": "nkda", "allergies": ["latex"]}))
    assert "contradicts" in error.value.problems[0]


# --- excipients: always present ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "allergy, drug, excipient",
    [
        ("PEG 3350", "methylprednisolone_acetate", "peg_3350"),
        ("peg-3350", "Depo-Medrol", "peg_3350"),
        ("Polyethylene Glycol", "methylprednisolone_acetate", "peg_3350"),
        ("macrogol", "methylprednisolone_acetate", "peg_3350"),
        ("polysorbate 80", "triamcinolone", "polysorbate_80"),
        ("Tween-80", "Kenalog", "polysorbate_80"),
        ("carboxymethylcellulose", "triamcinolone", "carboxymethylcellulose"),
        ("Carmellose", "Kenalog-40", "carboxymethylcellulose"),
        ("Cow's milk protein", "abobotulinumtoxinA", "cows_milk_protein"),
        ("cows milk", "Dysport", "cows_milk_protein"),
        ("MILK", "abobotulinumtoxinA", "cows_milk_protein"),
        ("human albumin", "onabotulinumtoxinA", "human_albumin"),
        ("Albumin", "incobotulinumtoxinA", "human_albumin"),
        ("albumin", "rimabotulinumtoxinB", "human_albumin"),
        ("sodium sulphite", "dexamethasone_sodium_phosphate", "sulfites"),
    ],
)
def test_an_allergy_to_an_excipient_always_in_the_product_is_a_contraindication(allergy, drug, excipient):
    result = screen(plan(drug, allergies=[allergy]))
    (finding,) = findings_of(result, "SCR-ALLERGY-EXCIPIENT")
    assert finding.severity == "contraindicated"
    assert finding.data["excipient"] == excipient
    assert result.status == "contraindicated"
    assert findings_of(result, "SCR-ALLERGY-UNMATCHED") == []


def test_cows_milk_protein_allergy_does_not_rule_out_other_toxins():
    result = screen(plan("onabotulinumtoxinA", allergies=["cow's milk"]))
    (finding,) = findings_of(result, "SCR-ALLERGY-EXCIPIENT")
    assert finding.severity == "info"
    assert "none of the planned products" in finding.message
    assert result.status == "ready"


# --- excipients: present only in some forms ---------------------------------------------------------

def test_metabisulfite_allergy_with_lidocaine_with_epinephrine_is_a_contraindication():
    result = screen(plan({"drug": "lidocaine", "with_epinephrine": True}, allergies=["sodium metabisulfite"]))
    assert severities_of(result, "SCR-ALLERGY-EXCIPIENT") == ["contraindicated"]


def test_metabisulfite_allergy_with_plain_lidocaine_is_information():
    result = screen(plan({"drug": "lidocaine", "with_epinephrine": False}, allergies=["metabisulphite"]))
    assert severities_of(result, "SCR-ALLERGY-EXCIPIENT") == ["info"]
    assert result.status == "ready"


def test_metabisulfite_allergy_when_the_plan_does_not_say_epinephrine_is_a_review():
    result = screen(plan("bupivacaine", allergies=["sulfites"]))
    (finding,) = findings_of(result, "SCR-ALLERGY-EXCIPIENT")
    assert finding.severity == "review"
    assert "does not say" in finding.message
    assert result.status == "review"


def test_methylparaben_allergy_with_a_multi_dose_vial_is_a_contraindication():
    result = screen(plan({"drug": "lidocaine", "vial": "multi_dose"}, allergies=["Methylparaben"]))
    assert severities_of(result, "SCR-ALLERGY-EXCIPIENT") == ["contraindicated"]


def test_methylparaben_allergy_with_a_single_dose_vial_is_information():
    result = screen(plan({"drug": "lidocaine", "vial": "single_dose"}, allergies=["parabens"]))
    assert severities_of(result, "SCR-ALLERGY-EXCIPIENT") == ["info"]
    assert result.status == "ready"


def test_methylparaben_allergy_when_the_vial_is_not_said_is_a_review():
    assert severities_of(screen(plan("mepivacaine", allergies=["methyl paraben"])), "SCR-ALLERGY-EXCIPIENT") == ["review"]


def test_an_unknown_vial_kind_is_refused():
    with pytest.raises(RuleInputError) as error:
        screen(plan({"drug": "lidocaine", "vial": "ampoule"}))
    assert "plan.injectates[0].vial 'ampoule' is not allowed" in error.value.problems[0]


# --- unmatched allergies ----------------------------------------------------------------------------

@pytest.mark.parametrize("allergy", ["penicillin", "latex", "shellfish", "sulfa drugs", "lidocain"])
def test_an_allergy_that_matches_nothing_needs_a_person_to_confirm_it(allergy):
    result = screen(plan("lidocaine", allergies=[allergy]))
    (finding,) = findings_of(result, "SCR-ALLERGY-UNMATCHED")
    assert finding.severity == "review"
    assert finding.data["allergies"] == [allergy]
    assert result.status == "review"


def test_a_matched_drug_allergy_is_not_listed_as_unmatched():
    result = screen(plan("saline", allergies=["Lidocaine"]))
    assert findings_of(result, "SCR-ALLERGY-UNMATCHED") == []
