"""Shared fixtures for the aftercare pure tests: the real catalogues and a request builder."""

from __future__ import annotations

from typing import Any

import pytest

from triggerpoint.aftercare.plan import AftercarePlan, build_plan, parse_plan_request
from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs

# A neck-and-jaw case with nothing over the thorax, and a thoracic muscle for the chest warning.
NON_THORACIC = "masseter"
THORACIC = "upper_trapezius"


@pytest.fixture(scope="session")
def atlas():
    return load_atlas()


@pytest.fixture(scope="session")
def drugs():
    return load_drugs()


@pytest.fixture(scope="session")
def template():
    return load_template("default")


def request_body(**overrides: Any) -> dict[str, Any]:
    """A valid request for a lidocaine-only, non-thoracic procedure; override any field."""
    body: dict[str, Any] = {
        "procedure_date": "2026-04-14",
        "sites": [{"muscle": NON_THORACIC, "side": "left"}],
        "injectates": [{"drug": "lidocaine"}],
        "patient": {"conditions": []},
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_plan(atlas, drugs, template):
    def make(language: str | None = None, **overrides: Any) -> AftercarePlan:
        inp = parse_plan_request(request_body(**overrides), atlas=atlas, drugs=drugs, template=template)
        return build_plan(inp, atlas, drugs, template, language=language)

    return make


def task_ids(plan: AftercarePlan) -> set[str]:
    return {task.id for day in plan.days for task in day.tasks}


def days_with(plan: AftercarePlan, task_id: str) -> list[int]:
    return [day.day_number for day in plan.days if task_id in day.task_ids()]
