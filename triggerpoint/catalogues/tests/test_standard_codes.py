"""The standard-codes table: no orphans, every drug covered, codes well-formed, verified rows sourced.

The format checks (SNOMED CT Verhoeff check digit, LOINC mod-10 check digit, RxNorm numeric)
cannot prove a code means what the row says; they catch a mistyped digit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triggerpoint.atlas.catalog import load_atlas, read_muscles_document
from triggerpoint.catalogues import standard_codes
from triggerpoint.catalogues.code_formats import loinc_valid, sctid_valid, well_formed
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.catalogues.instruments import load_instruments
from triggerpoint.catalogues.standard_codes import (
    LOINC,
    RXNORM,
    SNOMED,
    SYSTEM_OF_KIND,
    build_table,
    entries,
    lookup,
)
from triggerpoint.core.choices import SIDES
from triggerpoint.core.data import DataFileError

ROOT = Path(standard_codes.__file__).resolve().parent.parent

def test_the_check_digit_functions_know_good_codes_from_one_digit_typos():
    # Codes quoted in /work/shared/fhir/README.md, and the same codes with one digit changed.
    for good in ("7771000", "24028007", "51440002"):
        assert sctid_valid(good)
    for typo in ("7771001", "24028017", "51440012", "07771000"):
        assert not sctid_valid(typo)
    for good in ("72514-3", "59284-0", "28570-0"):
        assert loinc_valid(good)
    for typo in ("72514-4", "72515-3", "59248-0", "72514"):
        assert not loinc_valid(typo)


def _instrument_item_keys() -> set[str]:
    return {f"{iid}/{item}" for iid, inst in load_instruments().items() for item in inst.item_ids}


def _unit_names_in_use() -> set[str]:
    """Unit names the clinic's tables and records use (mL volumes, mg/units doses, kg weights, mg/kg maxima)."""
    hcpcs_schema = json.loads((ROOT / "procedures/data/schemas/hcpcs.schema.json").read_text())
    dose_units = hcpcs_schema["properties"]["codes"]["items"]["properties"]["dose_unit"]["enum"]
    maxima = (ROOT / "procedures/data/local_anesthetic_max_doses.yaml").read_text()
    assert "mg_per_kg" in maxima
    return {"mL", "kg", "mg/kg", *dose_units}


def _valid_keys(kind: str) -> set[str]:
    if kind == "muscle":
        return set(load_atlas().muscles)
    if kind == "laterality":
        # The sides vocabulary, plus the atlas's own zone sides: "midline" zones and "both:" referral.
        atlas_zone_sides = {zone.side for zone in load_atlas().zones.values()}
        assert "midline" in atlas_zone_sides
        assert "both:" in json.dumps(read_muscles_document())
        return {*SIDES, "midline", "both"}
    if kind == "drug":
        return set(load_drugs().ids)
    if kind == "route":
        return set(standard_codes.ROUTES)
    if kind == "unit":
        assert set(standard_codes.UNITS) <= _unit_names_in_use()
        return set(standard_codes.UNITS)
    if kind in ("instrument", "instrument_score"):
        return set(load_instruments())
    if kind == "instrument_item":
        return _instrument_item_keys()
    raise AssertionError(kind)


def test_every_key_names_something_in_our_catalogues():
    orphans = [f"{row.kind} {row.key}" for row in entries() if row.key not in _valid_keys(row.kind)]
    assert orphans == []


def test_every_catalogue_drug_has_a_row_and_an_unverified_one_says_why():
    missing = [drug_id for drug_id in load_drugs().ids if standard_codes.entry("drug", drug_id) is None]
    assert missing == []
    for row in entries("drug"):
        if not row.verified:
            assert len(row.source) > 20, f"{row.key}: an unverified row says what was found"


def test_every_side_has_a_verified_laterality_code():
    for side in SIDES:
        code = lookup("laterality", side)
        assert code is not None and code.verified and code.system == SNOMED


def test_codes_are_well_formed_for_their_system():
    bad = [f"{row.kind} {row.key}" for row in entries()
           if row.system != SYSTEM_OF_KIND[row.kind] or (row.code is not None and not well_formed(row.system, row.code))]
    assert bad == []


def test_a_mistyped_code_or_a_code_in_the_wrong_system_fails_at_load():
    typo = {"kind": "muscle", "key": "deltoid", "system": SNOMED, "code": "35259003", "verified": False,
            "source": "a typo of 35259002"}
    wrong_system = {"kind": "drug", "key": "lidocaine", "system": LOINC, "code": "72514-3", "verified": False,
                    "source": "a LOINC code on a drug"}
    with pytest.raises(DataFileError) as raised:
        build_table({"version": 1, "codes": [typo, wrong_system]})
    assert raised.value.problems == [
        "standard_codes.yaml: muscle 'deltoid': '35259003' is not a well-formed http://snomed.info/sct code; "
        "drug 'lidocaine': a drug is coded in http://www.nlm.nih.gov/research/umls/rxnorm"]


def test_verified_rows_have_a_code_a_display_and_a_source():
    for row in entries():
        if row.verified:
            assert row.code and row.display.strip() and row.source.strip(), f"{row.kind} {row.key}"


def test_lookup_answers_none_for_a_row_without_a_code_and_for_an_unknown_key():
    codeless = [row for row in entries() if row.code is None]
    for row in codeless:
        assert lookup(row.kind, row.key) is None
    assert lookup("muscle", "no_such_muscle") is None
    with pytest.raises(ValueError, match="kind must be one of"):
        lookup("organ", "heart")


def test_a_duplicate_row_is_refused():
    row = {"kind": "drug", "key": "lidocaine", "system": RXNORM, "code": "6387", "verified": False, "source": "x y z"}
    with pytest.raises(DataFileError, match="duplicate drug 'lidocaine'"):
        build_table({"version": 1, "codes": [row, row]})


def test_one_code_names_one_thing_unless_a_row_says_it_is_broader():
    """Two keys sharing an exact code is a copy-paste slip (a code for the wrong muscle)."""
    exact_owner: dict[tuple[str, str], str] = {}
    clashes = []
    for row in entries():
        if row.code is None or row.match != "exact" or row.kind.startswith("instrument"):
            continue
        owner = exact_owner.setdefault((row.system, row.code), f"{row.kind} {row.key}")
        if owner != f"{row.kind} {row.key}":
            clashes.append(f"{row.code}: {owner} and {row.kind} {row.key}")
    assert clashes == []


def test_every_item_code_belongs_to_an_instrument_that_has_the_item():
    items = _instrument_item_keys()
    for row in entries("instrument_item"):
        instrument_id, _, item_id = row.key.partition("/")
        assert row.key in items, f"{instrument_id} has no item {item_id!r}"


def test_peg_codes_are_the_ones_the_published_pain_cds_uses():
    # AHRQ CDS Connect Pain Management Summary CQL: items 75893-8, 91145-3, 91146-1; mean score 91147-9.
    assert [lookup("instrument_item", f"peg3/{item}").code for item in ("pain", "enjoyment", "activity")] == [
        "75893-8", "91145-3", "91146-1"]
    score = lookup("instrument_score", "peg3")
    assert score.code == "91147-9" and score.verified


def test_a_schema_violation_names_the_row():
    from triggerpoint.core.data import schema_problems

    schema = ROOT / "catalogues/data/schemas/standard_codes.schema.json"
    bad = {"version": 1, "codes": [{"kind": "muscle", "key": "deltoid", "system": SNOMED, "code": None,
                                     "verified": True, "source": "somewhere"}]}
    problems = schema_problems(bad, schema, "standard_codes.yaml")
    assert any("codes/0" in problem for problem in problems)


def coverage_table() -> str:
    lines = ["| kind | verified | unverified (code recorded) | no code found | catalogue items |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for kind, (verified, unverified, codeless) in standard_codes.coverage().items():
        lines.append(f"| {kind} | {verified} | {unverified} | {codeless} | {len(_valid_keys(kind))} |")
    return "\n".join(lines)


def test_the_coverage_table_in_the_docs_matches_the_data():
    doc = (ROOT.parent / "docs" / "STANDARD_CODES.md").read_text(encoding="utf-8")
    start, end = "<!-- coverage:start -->", "<!-- coverage:end -->"
    assert doc[doc.index(start) + len(start):doc.index(end)].strip() == coverage_table(), (
        "docs/STANDARD_CODES.md is stale; paste coverage_table() between the markers")
