"""The hazard log names only rules and tests that exist, and docs/HAZARDS.md is rendered from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from triggerpoint.core import hazards as log

VALID = {
    "id": "HAZ-EXAMPLE",
    "title": "An example",
    "cause": "A cause.",
    "effect": "An effect.",
    "severity": "major",
    "likelihood_before": "medium",
    "likelihood_after": "low",
    "controls": [{"rule": "DOSE-LA-MAX", "test": "triggerpoint/procedures/tests/test_dosing.py::test_a_dose_just_over_the_maximum_is_not_allowed"}],
}


@pytest.fixture(scope="module")
def rules():
    return log.known_rules()


@pytest.fixture(scope="module")
def hazards():
    return log.load_hazards()


def test_every_hazard_file_is_valid(hazards):
    assert len(hazards) >= 11
    assert {hazard.id for hazard in hazards} >= {"HAZ-LA-OVERDOSE", "HAZ-UNDER-TRIAGE", "HAZ-WRONG-PATIENT"}


def test_every_rule_and_test_a_hazard_names_exists(hazards, rules):
    assert log.check_references(hazards, rules) == []


def test_the_committed_hazard_page_is_up_to_date(hazards, rules):
    assert log.RENDERED.read_text("utf-8") == log.render_markdown(hazards, rules), (
        "docs/HAZARDS.md is out of date: run `triggerpoint hazards`"
    )


def test_rules_are_found_as_globals_and_as_built_by_functions(rules):
    # Globals (dosing, coding), a dict built in a function (screening), functions with defaults (triage, repeat).
    for rule_id in ("DOSE-LA-MAX", "CODE-TPI-COUNT", "SCR-FEVER-TODAY", "TRI-URG-FEVER", "RPT-RELIEF-50",
                    "ASM-TRP-CLASSIFY"):
        assert rule_id in rules
    assert rules["TRI-URG-FEVER"].version == 1


def test_a_control_naming_a_missing_rule_or_test_is_reported(tmp_path, rules):
    document = dict(VALID, controls=[
        {"rule": "DOSE-NO-SUCH-RULE", "test": "triggerpoint/procedures/tests/test_dosing.py::test_not_there"},
        {"mechanism": "Something.", "test": "triggerpoint/procedures/tests/test_no_such_file.py::test_x"},
    ])
    hazard, problems = log.parse_hazard(document, tmp_path / "HAZ-EXAMPLE.yaml")
    assert problems == []
    assert log.check_references([hazard], rules) == [
        "HAZ-EXAMPLE: rule 'DOSE-NO-SUCH-RULE' does not exist in code",
        "HAZ-EXAMPLE: test 'triggerpoint/procedures/tests/test_dosing.py::test_not_there' does not exist",
        "HAZ-EXAMPLE: test 'triggerpoint/procedures/tests/test_no_such_file.py::test_x' does not exist",
    ]


@pytest.mark.parametrize(
    ("node_id", "exists"),
    [
        ("triggerpoint/procedures/tests/test_dosing.py::test_a_dose_just_over_the_maximum_is_not_allowed", True),
        ("triggerpoint/procedures/tests/test_dosing.py::test_the_table_holds_the_agreed_maxima[lidocaine]", True),
        ("triggerpoint/procedures/tests/test_dosing.py::check", False),  # a helper, not a test
        ("triggerpoint/procedures/tests/test_dosing.py::test_missing", False),
        ("triggerpoint/procedures/tests/test_dosing.py", False),
        ("triggerpoint/procedures/dosing.py::check_doses", False),  # not a test file
        ("triggerpoint/core/tests/test_hazards.py::TestNodeIds::test_a_method_inside_a_class_is_found", True),
        ("triggerpoint/core/tests/test_hazards.py::TestNodeIds::test_missing_method", False),
        ("triggerpoint/core/tests/test_hazards.py::test_a_method_inside_a_class_is_found", False),
    ],
)
def test_node_ids_are_checked_against_the_test_files(node_id, exists):
    assert log.test_node_exists(node_id) is exists


class TestNodeIds:
    def test_a_method_inside_a_class_is_found(self):
        assert log.test_node_exists(
            "triggerpoint/core/tests/test_hazards.py::TestNodeIds::test_a_method_inside_a_class_is_found"
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "severe"}, "severity: 'severe' is not one of"),
        ({"likelihood_after": "rare"}, "likelihood_after: 'rare' is not one of"),
        ({"controls": []}, "controls: [] should be non-empty"),
        ({"controls": [{"rule": "X", "mechanism": "Y", "test": "triggerpoint/a/tests/test_a.py::test_a"}]},
         "controls/0"),
        ({"controls": [{"rule": "DOSE-LA-MAX"}]}, "'test' is a required property"),
        ({"owner": "someone"}, "Additional properties are not allowed ('owner' was unexpected)"),
        ({"id": "HAZ-OTHER"}, "id 'HAZ-OTHER' must equal the file name 'HAZ-EXAMPLE'"),
        ({"likelihood_after": "very_high"}, "likelihood_after is higher than likelihood_before"),
    ],
)
def test_an_invalid_hazard_is_refused_with_the_reason(tmp_path, change, message):
    _, problems = log.parse_hazard(dict(VALID, **change), tmp_path / "HAZ-EXAMPLE.yaml")
    assert any(message in problem for problem in problems), problems


def test_loading_reports_every_bad_file_at_once(tmp_path):
    (tmp_path / "HAZ-EXAMPLE.yaml").write_text(yaml.safe_dump(dict(VALID, severity="huge")), "utf-8")
    (tmp_path / "HAZ-BROKEN.yaml").write_text("id: [unclosed", "utf-8")
    with pytest.raises(log.HazardLogError) as error:
        log.load_hazards(tmp_path)
    assert len(error.value.problems) == 2


def test_a_new_file_dropped_in_is_rendered(tmp_path, rules):
    (tmp_path / "HAZ-EXAMPLE.yaml").write_text(yaml.safe_dump(VALID), "utf-8")
    (hazard,) = log.load_hazards(tmp_path)
    page = log.render_markdown([hazard], rules)
    assert "| [HAZ-EXAMPLE](#haz-example) | An example | major | 3 undesirable (medium) | 3 undesirable (low) |" in page
    assert f"| rule `DOSE-LA-MAX` | {rules['DOSE-LA-MAX'].title} (v1) |" in page


@pytest.mark.parametrize(
    ("severity", "likelihood", "rating"),
    [("minor", "very_low", 1), ("catastrophic", "very_high", 5), ("major", "medium", 3), ("catastrophic", "low", 4),
     ("significant", "low", 2)],
)
def test_the_risk_rating_follows_the_dcb0129_matrix(severity, likelihood, rating):
    assert log.risk_rating(severity, likelihood) == rating


def test_the_command_refuses_a_stale_page(monkeypatch, tmp_path):
    from django.core.management import CommandError, call_command

    stale = tmp_path / "HAZARDS.md"
    stale.write_text("old\n", "utf-8")
    monkeypatch.setattr(log, "RENDERED", stale)
    with pytest.raises(CommandError, match="out of date"):
        call_command("hazards", "--check")
    call_command("hazards")
    call_command("hazards", "--check")
    assert Path(stale).read_text("utf-8").startswith("# Hazard log")
