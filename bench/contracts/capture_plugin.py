"""Pytest plugin: record every body handed to a calculator parser while a test run goes.

Usage (once, before a refactor):
    CALC_CAPTURE=/tmp/bodies.jsonl .venv/bin/pytest -q -p bench.contracts.capture_plugin <tests>

Each line is {"calculator": name, "body": <the JSON body>}; bodies that are not JSON
(dates or Decimals handed to a parser directly) are skipped. Exam findings and fibromyalgia
answers are recorded where the pages and services parse them (`assessment.schemas`); since
their API endpoints take the contracts as Ninja bodies, a body posted straight to
``/exam/classify`` or ``/fibromyalgia/score`` no longer passes through a parse function. `bench/contracts/replay.py`
posts them to the endpoints and records the answers. The same holds for triage: the check-in services
still read through `parse_triage_request`, while ``/followup/triage`` takes `TriageRequestIn` as its body.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import pytest

TARGETS = {
    "screening": ("triggerpoint.screening.rules", "parse_screening_request"),
    "triage": ("triggerpoint.followup.triage", "parse_triage_request"),
    "aftercare": ("triggerpoint.aftercare.plan", "parse_plan_request"),
    "fibromyalgia": ("triggerpoint.assessment.schemas", "parse_fibromyalgia"),
    "exam": ("triggerpoint.assessment.schemas", "parse_exam_finding"),
}


def _record(calculator: str, body) -> None:
    try:
        line = json.dumps({"calculator": calculator, "body": body}, sort_keys=True)
    except (TypeError, ValueError):
        return
    with open(os.environ["CALC_CAPTURE"], "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _wrap(calculator: str, original):
    def wrapper(payload, *args, **kwargs):
        _record(calculator, payload)
        return original(payload, *args, **kwargs)

    return wrapper


@pytest.fixture(autouse=True, scope="session")
def _capture_calculator_bodies():
    if not os.environ.get("CALC_CAPTURE"):
        yield
        return
    patched = []
    for calculator, (module_name, name) in TARGETS.items():
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        wrapper = _wrap(calculator, original)
        for other in list(sys.modules.values()):
            if getattr(other, name, None) is original:
                setattr(other, name, wrapper)
                patched.append((other, name, original))
    yield
    for module, name, original in patched:
        setattr(module, name, original)
