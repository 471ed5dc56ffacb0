"""The status is the most severe finding; `ready` when nothing is above `info`."""

import pytest

from triggerpoint.core.rules import Finding
from triggerpoint.screening.rules import EVALUATORS, RULES, SEVERITIES, screening_status
from triggerpoint.screening.tests.builders import payload, screen


def finding(severity):
    return Finding(rule="SCR-TEST", version=1, severity=severity, message="m", basis="b")


def test_no_findings_is_ready():
    assert screening_status([]) == "ready"


def test_only_information_is_ready():
    assert screening_status([finding("info"), finding("info")]) == "ready"


@pytest.mark.parametrize("worst", SEVERITIES[1:])
def test_the_most_severe_finding_sets_the_status(worst):
    lower = SEVERITIES[: SEVERITIES.index(worst)]
    assert screening_status([finding(s) for s in (*lower, worst)]) == worst
    assert screening_status([finding(worst), *(finding(s) for s in lower)]) == worst


def test_a_case_with_every_severity_is_contraindicated_and_lists_the_worst_first():
    body = payload(
        patient={"pregnant": True, "sex": "female", "conditions": ["prior_vasovagal"]},
        today={"feels_unwell": True, "infection_at_site": True},
    )
    result = screen(body)
    assert result.status == "contraindicated"
    assert [f.severity for f in result.findings] == ["contraindicated", "defer", "review", "info"]


def test_the_result_has_the_contract_shape():
    result = screen(payload(today={"feels_unwell": True}))
    body = result.as_dict()
    assert body["status"] == "defer"
    (item,) = body["findings"]
    assert {"rule", "severity", "message", "basis"} <= set(item)
    assert item["rule"] == "SCR-UNWELL-TODAY"


def test_every_rule_has_an_evaluator_a_basis_and_a_source():
    assert set(RULES) == set(EVALUATORS)
    for rule in RULES.values():
        assert rule.id.startswith("SCR-")
        assert rule.version >= 1
        assert rule.basis and rule.sources
