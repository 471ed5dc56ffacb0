"""`POST /api/v1/aftercare/plan`: the day-by-day plan for a procedure, computed, not stored.

The ARCHITECTURE §8 contract: `{"procedure_date", "sites": [{"muscle", "side"}],
"injectates": [{"drug"}], "patient": {"conditions": [...]}}` in, `{"days": [{"date",
"tasks"}], "activity_restriction_until", "warning_window_until"}` out (plus added fields).
Optional additions: `physical_therapy_planned`, `clinic` {name, phone} (defaults to the
caller's clinic) and `language`. Bad input is a 422 listing every problem.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from ninja import Field, Router, Schema

from triggerpoint.accounts.policy import require
from triggerpoint.aftercare.plan import build_plan
from triggerpoint.aftercare.schemas import PlanRequestIn
from triggerpoint.core.contract_body import object_contract_body

router = Router(tags=["aftercare"])


# The response, as `AftercarePlan.as_dict` builds it: fields in its key order, so the JSON the
# endpoint sends is exactly that dict (emitted with exclude_unset: a task without a muscle has no
# "muscle"/"sides" keys, never nulls). tests/test_api.py compares the two key for key.
class AftercarePlanTaskOut(Schema):
    id: str
    kind: str
    text: str
    articles: list[str]
    muscle: str = Field(None, description="Per-muscle tasks only (e.g. a stretch): the atlas muscle id.")
    sides: list[str] = Field(None, description="Per-muscle tasks only: the sides treated.")
    rule: str
    basis: str


class AftercarePlanDayOut(Schema):
    date: date
    day_number: int
    tasks: list[AftercarePlanTaskOut]


class AftercarePlanTemplateOut(Schema):
    id: str
    version: int


class AftercarePlanOut(Schema):
    days: list[AftercarePlanDayOut]
    activity_restriction_until: date
    warning_window_until: date
    procedure_date: date
    template: AftercarePlanTemplateOut
    language: str
    articles: list[str]


EXAMPLE = {
    "procedure_date": "2026-03-07",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
    "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}],
    "patient": {"conditions": ["diabetes"]},
}


PLAN_BODY = object_contract_body(..., example=EXAMPLE, before=lambda request: require(request.auth, "rules.evaluate"))


@router.post("/plan", url_name="aftercare_plan", summary="Build an aftercare plan (no side effects)",
             response=AftercarePlanOut, exclude_unset=True)
def aftercare_plan(request, payload: PlanRequestIn = PLAN_BODY) -> dict[str, Any]:
    """The plan for the body's procedure; a bad body is a 422 listing every problem at once."""
    require(request.auth, "rules.evaluate")
    plan = payload.to_input()
    clinic = getattr(request.auth, "clinic", None)
    if "clinic" not in payload.model_fields_set and clinic is not None:
        plan = replace(plan, clinic_name=clinic.name, clinic_phone=clinic.phone or None)
    return build_plan(plan).as_dict()
