"""The shipped data files match their schemas, cite defined sources, and agree with the catalogues."""

import pytest

from triggerpoint.procedures.drugs import load_drugs
from triggerpoint.screening import content
from triggerpoint.screening.content import ScreeningDataError, load_document

DATA_FILES = ["anticoagulants.yaml", "allergy_terms.yaml", "consent_risks.yaml", "preparation.yaml"]


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
