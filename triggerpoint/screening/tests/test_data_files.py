"""The shipped data files match their schemas, cite defined sources, and agree with the catalogues."""

import pytest

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.screening import content
from triggerpoint.screening.content import ScreeningDataError, load_document

DATA_FILES = [
    "anticoagulants.yaml", "allergy_terms.yaml", "consent_risks.yaml", "preparation.yaml", "excipients.yaml",
    "safety_rules.yaml",
]


@pytest.mark.parametrize("file_name", DATA_FILES)
def test_each_data_file_matches_its_schema_and_cites_only_defined_sources(file_name):
    assert load_document(file_name)["version"] >= 1


def test_a_file_breaking_its_schema_is_refused(tmp_path, monkeypatch):
    (tmp_path / "preparation.yaml").write_text("version: 1\nsources: {a: 'a long enough source'}\ninstructions: []\n")
    monkeypatch.setattr(content, "DATA_DIR", tmp_path)
    with pytest.raises(ScreeningDataError, match="instructions"):
        load_document("preparation.yaml")


def test_a_file_citing_an_undefined_source_is_refused(tmp_path, monkeypatch):
    (tmp_path / "preparation.yaml").write_text(
        "version: 1\nsources: {a: 'a long enough source'}\n"
        "instructions: [{id: x, applies_when: [always], text: {en: 'Some plain words.'}, sources: [b]}]\n"
    )
    monkeypatch.setattr(content, "DATA_DIR", tmp_path)
    with pytest.raises(ScreeningDataError, match="'b'"):
        load_document("preparation.yaml")


def test_the_blood_thinner_table_covers_the_drugs_of_the_issue():
    table = content.load_blood_thinners()
    for name in ("warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban", "heparin", "enoxaparin",
                 "clopidogrel", "prasugrel", "ticagrelor", "aspirin"):
        entry = table.find(name)
        assert entry is not None, name
        assert any("Endres" in source or "Narouze" in source for source in entry.sources), name


def test_no_allergy_class_word_or_extra_anesthetic_shadows_a_catalogue_drug():
    vocabulary = content.load_allergy_vocabulary()
    drugs = load_drugs()
    for term in [*vocabulary.other_local_anesthetics]:
        assert drugs.resolve(term) is None, term
    catalogue_classes = {drug.drug_class for drug in drugs.drugs.values()}
    for classes in vocabulary.class_terms.values():
        assert classes <= catalogue_classes


def test_the_consent_risks_include_the_clinic_general_list():
    general = [entry.id for entry in content.load_consent_risks().entries if "always" in entry.applies_when]
    assert general == ["allergic_reaction", "infection", "bleeding", "nerve_injury", "temporary_pain_increase"]


def test_every_condition_the_safety_table_names_is_a_screening_condition():
    from triggerpoint.screening.rules import CONDITIONS
    from triggerpoint.screening.safety_data import load_safety_rules

    table = load_safety_rules()
    named = set(table.toxin["nmj_conditions"]) | set(table.red_flags) | set(table.magnesium)
    named |= set(table.immunosuppression["conditions"])
    assert named <= set(CONDITIONS)


def test_every_product_of_the_excipient_table_is_a_catalogue_drug_and_no_word_is_both_drug_and_excipient():
    from triggerpoint.screening.safety_data import load_excipients

    table = load_excipients()
    drugs = load_drugs()
    assert set(table.by_drug) <= set(drugs.ids)
    assert [term for term in table.by_term if drugs.resolve(term) is not None] == []


def test_the_excipients_issue_14_names_are_mapped():
    from triggerpoint.screening.safety_data import load_excipients

    table = load_excipients()
    contents = {drug: {(c.excipient.id, c.present) for c in table.of_drug(drug)} for drug in table.by_drug}
    assert ("peg_3350", "always") in contents["methylprednisolone_acetate"]
    assert {("carboxymethylcellulose", "always"), ("polysorbate_80", "always")} <= contents["triamcinolone"]
    assert ("sulfites", "with_epinephrine") in contents["lidocaine"]
    assert ("parabens", "multi_dose_vial") in contents["lidocaine"]
    assert ("cows_milk_protein", "always") in contents["abobotulinumtoxinA"]
    for toxin in ("onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA", "rimabotulinumtoxinB"):
        assert ("human_albumin", "always") in contents[toxin]


def test_a_safety_table_with_an_unknown_severity_is_refused(tmp_path, monkeypatch):
    import shutil

    from triggerpoint.screening import safety_data

    shutil.copytree(content.DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "safety_rules.yaml"
    path.write_text(path.read_text().replace("interval_severity: defer", "interval_severity: maybe"))
    monkeypatch.setattr(content, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(content, "SCHEMA_DIR", tmp_path / "data" / "schemas")
    safety_data.load_safety_rules.cache_clear()
    try:
        with pytest.raises(ScreeningDataError, match="interval_severity"):
            safety_data.load_safety_rules()
    finally:
        safety_data.load_safety_rules.cache_clear()
