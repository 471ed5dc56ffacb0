"""Specification of the drug catalogue contract other apps rely on."""

import copy

import pytest
import yaml
from jsonschema import Draft202012Validator

from triggerpoint.catalogues.drugs import DrugCatalog, build_catalog, load_drugs
from triggerpoint.procedures._data import DATA_DIR, DataFileError, load_schema

CONTRACT_CLASSES = {
    "lidocaine": "amide_local_anesthetic",
    "bupivacaine": "amide_local_anesthetic",
    "ropivacaine": "amide_local_anesthetic",
    "mepivacaine": "amide_local_anesthetic",
    "procaine": "ester_local_anesthetic",
    "chloroprocaine": "ester_local_anesthetic",
    "triamcinolone": "corticosteroid",
    "dexamethasone_sodium_phosphate": "corticosteroid",
    "methylprednisolone_acetate": "corticosteroid",
    "onabotulinumtoxinA": "botulinum_toxin",
    "abobotulinumtoxinA": "botulinum_toxin",
    "incobotulinumtoxinA": "botulinum_toxin",
    "rimabotulinumtoxinB": "botulinum_toxin",
    "saline": "saline",
    "magnesium_sulfate": "magnesium",
}


def _document():
    return yaml.safe_load((DATA_DIR / "drugs.yaml").read_text(encoding="utf-8"))


def test_the_data_file_matches_its_schema():
    Draft202012Validator(load_schema("drugs.schema.json")).validate(_document())


def test_it_has_exactly_the_contract_ids_with_their_classes():
    drugs = load_drugs()
    assert set(drugs.ids) == set(CONTRACT_CLASSES)
    assert {drug_id: drugs.get(drug_id).drug_class for drug_id in drugs.ids} == CONTRACT_CLASSES


def test_every_drug_cites_a_source():
    assert all(load_drugs().get(drug_id).sources for drug_id in load_drugs().ids)


def test_load_drugs_is_cached():
    drugs = load_drugs()
    assert isinstance(drugs, DrugCatalog) and "lidocaine" in drugs.ids  # "is" alone would also hold for None
    assert load_drugs() is drugs


def test_get_raises_key_error_for_an_unknown_id():
    with pytest.raises(KeyError):
        load_drugs().get("aspirin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lidocaine", "lidocaine"),
        ("xylocaine", "lidocaine"),
        ("MARCAINE", "bupivacaine"),
        ("Sensorcaine", "bupivacaine"),
        ("Naropin", "ropivacaine"),
        ("Carbocaine", "mepivacaine"),
        ("Polocaine", "mepivacaine"),
        ("Novocain", "procaine"),
        ("Nesacaine", "chloroprocaine"),
        ("Kenalog", "triamcinolone"),
        ("Decadron", "dexamethasone_sodium_phosphate"),
        ("Depo-Medrol", "methylprednisolone_acetate"),
        ("Botox", "onabotulinumtoxinA"),
        ("Dysport", "abobotulinumtoxinA"),
        ("Xeomin", "incobotulinumtoxinA"),
        ("Myobloc", "rimabotulinumtoxinB"),
        ("normal saline", "saline"),
        ("NS", "saline"),
        ("0.9% sodium chloride", "saline"),
        ("0.9 % Sodium Chloride", "saline"),
        ("magnesium", "magnesium_sulfate"),
        ("onabotulinumtoxinA", "onabotulinumtoxinA"),
        ("ONABOTULINUMTOXINA", "onabotulinumtoxinA"),
    ],
)
def test_it_resolves_names_brands_and_synonyms_case_insensitively(text, expected):
    assert load_drugs().resolve(text).id == expected


def test_it_resolves_unknown_text_to_none():
    assert load_drugs().resolve("ketorolac") is None


def test_local_anesthetic_flag_follows_the_class():
    drugs = load_drugs()
    assert drugs.get("procaine").is_local_anesthetic
    assert not drugs.get("saline").is_local_anesthetic


def test_it_refuses_a_synonym_shared_by_two_drugs():
    document = copy.deepcopy(_document())
    document["drugs"][1]["synonyms"].append("Xylocaine")
    with pytest.raises(DataFileError, match="Xylocaine"):
        build_catalog(document)
