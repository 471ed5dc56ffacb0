"""ICD-10-CM search and validation against the curated table (data/icd10cm.yaml)."""

from datetime import date

import pytest

from triggerpoint.assessment._data import AssessmentDataError, read_yaml, validate_document
from triggerpoint.assessment.diagnoses import (
    build_icd_table,
    load_icd_table,
    normalise_code,
    search_codes,
    validate_code,
)
from triggerpoint.core.rules import RuleInputError

TODAY = date(2025, 11, 3)


def test_the_code_table_matches_its_schema():
    validate_document(read_yaml("icd10cm.yaml"), "icd10cm.schema.json", "icd10cm.yaml")


@pytest.mark.parametrize(
    "code",
    ["M79.10", "M79.11", "M79.12", "M79.18", "M79.7", "M54.2", "M54.50", "G44.209", "G89.29", "S13.4XXA"],
)
def test_a_billable_leaf_validates(code):
    assert validate_code(code, TODAY).code == code


@pytest.mark.parametrize(
    ("header", "children"),
    [
        ("M79.1", {"M79.10", "M79.11", "M79.12", "M79.18"}),
        ("M54.5", {"M54.50", "M54.51", "M54.59"}),
        ("G44.2", {"G44.201", "G44.209", "G44.211", "G44.219", "G44.221", "G44.229"}),
        ("M62.83", {"M62.830", "M62.831", "M62.838"}),
        ("S13.4", {"S13.4XXA", "S13.4XXD", "S13.4XXS"}),
    ],
)
def test_a_category_header_is_refused_with_its_billable_children(header, children):
    with pytest.raises(RuleInputError) as error:
        validate_code(header, TODAY)
    message = str(error.value)
    assert "category header" in message
    for child in children:
        assert child in message
    assert {c.code for c in load_icd_table().billable_descendants(header, TODAY)} == children


@pytest.mark.parametrize("code", ["M79.99", "Z99.999", "myalgia", ""])
def test_an_unknown_code_is_refused(code):
    with pytest.raises(RuleInputError, match="unknown ICD-10-CM code"):
        validate_code(code, TODAY)


def test_m54_5_is_billable_up_to_30_september_2021():
    assert validate_code("M54.5", date(2021, 9, 30)).code == "M54.5"


def test_m54_5_is_a_header_from_1_october_2021():
    with pytest.raises(RuleInputError, match="category header since 2021-10-01"):
        validate_code("M54.5", date(2021, 10, 1))


def test_m54_50_cannot_be_reported_before_it_took_effect():
    with pytest.raises(RuleInputError, match="takes effect on 2021-10-01"):
        validate_code("M54.50", date(2021, 9, 30))
    assert validate_code("M54.50", date(2021, 10, 1)).code == "M54.50"


def test_the_myalgia_split_takes_effect_on_1_october_2022():
    assert validate_code("M79.1", date(2022, 9, 30)).code == "M79.1"
    with pytest.raises(RuleInputError, match="category header"):
        validate_code("M79.1", date(2022, 10, 1))
    with pytest.raises(RuleInputError, match="takes effect on 2022-10-01"):
        validate_code("M79.18", date(2022, 9, 30))


def test_tmj_arthralgia_became_a_header_with_sided_children_on_1_october_2016():
    assert validate_code("M26.62", date(2016, 9, 30)).code == "M26.62"
    with pytest.raises(RuleInputError) as error:
        validate_code("M26.62", date(2016, 10, 1))
    assert "M26.621" in str(error.value)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("m545", "M54.5"),
        ("M54.5", "M54.5"),
        (" m79.18 ", "M79.18"),
        ("s134xxa", "S13.4XXA"),
        ("M54 50", "M54.50"),
        ("g89", "G89"),
    ],
)
def test_codes_are_normalised_for_case_spaces_and_a_missing_dot(raw, normalised):
    assert normalise_code(raw) == normalised


def test_validation_accepts_a_code_typed_without_the_dot_in_lower_case():
    assert validate_code("m7912", TODAY).code == "M79.12"


def test_validation_needs_a_real_date():
    with pytest.raises(RuleInputError, match="on_date"):
        validate_code("M54.2", "2025-01-01")


def test_search_by_code_prefix_puts_the_exact_code_first():
    results = search_codes("m79.1", limit=10)
    assert [c.code for c in results][:1] == ["M79.1"]
    assert {c.code for c in results} == {"M79.1", "M79.10", "M79.11", "M79.12", "M79.18"}


def test_search_by_words_needs_every_word():
    codes = {c.code for c in search_codes("neck pain", limit=20)}
    assert "M54.2" in codes
    assert "M54.50" not in codes


def test_search_finds_synonyms_and_word_prefixes():
    assert "S13.4XXA" in {c.code for c in search_codes("whiplash")}
    assert "M79.7" in {c.code for c in search_codes("fibro")}
    assert {c.code for c in search_codes("myofascial")} >= {"M79.10", "M79.18"}


def test_search_ranks_billable_codes_before_headers_and_respects_the_limit():
    results = search_codes("low back", limit=2)
    assert len(results) == 2
    assert all(c.billable for c in results)


def test_search_on_a_date_leaves_out_codes_not_yet_in_force():
    codes = {c.code for c in search_codes("low back pain", on_date=date(2021, 9, 30))}
    assert "M54.5" in codes
    assert "M54.50" not in codes


def test_search_with_no_words_finds_nothing_and_a_bad_limit_is_refused():
    assert search_codes("  ..  ") == ()
    with pytest.raises(RuleInputError, match="limit"):
        search_codes("pain", limit=0)


def test_every_header_in_the_table_has_billable_children_today():
    table = load_icd_table()
    for entry in table.codes.values():
        if not entry.billable:
            assert table.billable_descendants(entry.code, TODAY), entry.code


def test_every_code_cites_a_cms_source():
    table = load_icd_table()
    for entry in table.codes.values():
        assert "cms-fy2026" in entry.sources, entry.code


def test_a_header_without_children_is_refused_at_load():
    document = read_yaml("icd10cm.yaml")
    document["codes"] = [row for row in document["codes"] if row["parent"] != "M54.5"]
    with pytest.raises(AssessmentDataError, match="M54.5: a header must list"):
        build_icd_table(document)
