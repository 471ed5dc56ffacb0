"""Every ICD-10-CM code in the project's data, checked against the CMS code set.

The authoritative copy is the `simple-icd-10-cm` package (pinned in requirements.lock),
which ships the CMS ICD-10-CM tabular list and code list (April 1, 2026 update). When
CMS publishes a new fiscal year, bump the pin; codes that changed status then fail here
with the code named, instead of being rejected on a claim weeks later.
"""

from __future__ import annotations

import warnings

import pytest
import yaml

with warnings.catch_warnings():
    # The package reads its bundled CMS files with importlib.resources.read_text (deprecated, still correct).
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as cms

from triggerpoint.assessment._data import DATA_DIR as ASSESSMENT_DATA
from triggerpoint.procedures._data import DATA_DIR as PROCEDURES_DATA

ICD_TABLE = yaml.safe_load((ASSESSMENT_DATA / "icd10cm.yaml").read_text(encoding="utf-8"))["codes"]
FLAGS = yaml.safe_load((PROCEDURES_DATA / "diagnosis_flags.yaml").read_text(encoding="utf-8"))["flags"]
ALL_CODES = sorted({row["code"] for row in ICD_TABLE} | {flag["code"] for flag in FLAGS})


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def test_the_authoritative_copy_is_the_expected_cms_release():
    # A known FY2023 split: the header M79.1 and its leaf M79.18 (would fail on an older code set).
    assert cms.is_valid_item("M79.18") and cms.is_leaf("M79.18")
    assert cms.is_valid_item("M79.1") and not cms.is_leaf("M79.1")


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_in_the_data_exists_in_the_cms_code_set(code):
    assert cms.is_valid_item(code), f"{code} is not in the CMS ICD-10-CM code set"


@pytest.mark.parametrize("row", [row for row in ICD_TABLE if row["billable"]], ids=lambda row: row["code"])
def test_every_billable_code_in_the_data_is_a_billable_cms_leaf(row):
    assert cms.is_valid_item(row["code"]), row["code"]
    assert cms.is_leaf(row["code"]), f"{row['code']} is marked billable but is a CMS category header"


@pytest.mark.parametrize("row", [row for row in ICD_TABLE if not row["billable"]], ids=lambda row: row["code"])
def test_every_header_in_the_data_is_a_cms_header_with_children(row):
    assert cms.is_valid_item(row["code"]), row["code"]
    assert not cms.is_leaf(row["code"]), f"{row['code']} is marked not billable but CMS reports a billable leaf"


@pytest.mark.parametrize("row", ICD_TABLE, ids=lambda row: row["code"])
def test_every_description_matches_the_cms_description(row):
    assert _normalised(row["description"]) == _normalised(cms.get_description(row["code"]))


@pytest.mark.parametrize("flag", [f for f in FLAGS if f["rule"] == "CODE-DX-INVALID"], ids=lambda f: f["code"])
def test_codes_flagged_invalid_are_cms_headers_today(flag):
    assert cms.is_valid_item(flag["code"]) and not cms.is_leaf(flag["code"])


@pytest.mark.parametrize("code", ["M79.1", "G44.2", "S16.1XX", "M54.5"])
def test_the_codes_from_the_issue_are_not_billable_in_the_cms_code_set(code):
    assert not (cms.is_valid_item(code) and cms.is_leaf(code))
