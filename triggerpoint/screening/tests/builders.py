"""A baseline screening request that is `ready`, and helpers to vary one fact at a time."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from triggerpoint.screening.rules import ScreeningPolicy, ScreeningResult, evaluate, parse_screening_request

PROCEDURE_DATE = date(2025, 6, 30)

_BASE: dict[str, Any] = {
    "procedure_date": PROCEDURE_DATE.isoformat(),
    "patient": {
        "age": 47,
        "sex": "male",
        "weight_kg": 82,
        "bmi": 26.1,
        "pregnant": False,
        "allergies": [],
        "allergy_status": "nkda",
        "medications": [],
        "conditions": [],
        "high_bleeding_risk": False,
    },
    "events": [],
    "today": {
        "temperature": {"value": 36.8, "unit": "C"},
        "feels_unwell": False,
        "on_antibiotics": False,
        "infection_at_site": False,
    },
    "plan": {
        "sites": [{"muscle": "quadratus_lumborum", "side": "left"}],
        "injectates": [{"drug": "lidocaine"}],
        "guidance": "landmark",
    },
    "history": {"steroid_injections_last_12_months": 0},
}


def payload(**sections: dict[str, Any]) -> dict[str, Any]:
    """The baseline with the given sections' keys overridden, e.g. ``payload(today={"feels_unwell": True})``."""
    result = copy.deepcopy(_BASE)
    for name, changes in sections.items():
        if isinstance(changes, dict) and isinstance(result.get(name), dict):
            result[name].update(copy.deepcopy(changes))
        else:
            result[name] = copy.deepcopy(changes)
    patient = sections.get("patient")
    if isinstance(patient, dict) and patient.get("allergies") and "allergy_status" not in patient:
        # Recording an allergy implies has_allergies (the baseline's "nkda" would contradict it).
        result["patient"]["allergy_status"] = "has_allergies"
    return result


def screen(body: dict[str, Any], policy: ScreeningPolicy | None = None) -> ScreeningResult:
    inp = parse_screening_request(body)
    return evaluate(inp) if policy is None else evaluate(inp, policy)


def findings_of(result: ScreeningResult, rule_id: str) -> list:
    return [finding for finding in result.findings if finding.rule == rule_id]


def severities_of(result: ScreeningResult, rule_id: str) -> list[str]:
    return [finding.severity for finding in findings_of(result, rule_id)]


def days_before(days: int) -> str:
    return (PROCEDURE_DATE - timedelta(days=days)).isoformat()
