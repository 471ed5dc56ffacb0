"""`POST /api/v1/aftercare/plan`: the day-by-day plan for a procedure, computed, not stored.

The ARCHITECTURE §8 contract: `{"procedure_date", "sites": [{"muscle", "side"}],
"injectates": [{"drug"}], "patient": {"conditions": [...]}}` in, `{"days": [{"date",
"tasks"}], "activity_restriction_until", "warning_window_until"}` out (plus added fields).
Optional additions: `physical_therapy_planned`, `clinic` {name, phone} (defaults to the
caller's clinic) and `language`. Bad input is a 422 listing every problem.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ninja import Router

from triggerpoint.accounts.policy import require
from triggerpoint.aftercare.plan import build_plan
from triggerpoint.aftercare.schemas import PlanRequestIn
from triggerpoint.core.contract_body import object_contract_body

router = Router(tags=["aftercare"])


EXAMPLE = {
    "procedure_date": "2026-03-07",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
    "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}],
    "patient": {"conditions": ["diabetes"]},
}


PLAN_BODY = object_contract_body(..., example=EXAMPLE, before=lambda request: require(request.auth, "rules.evaluate"))


@router.post("/plan", url_name="aftercare_plan", summary="Build an aftercare plan (no side effects)")
def aftercare_plan(request, payload: PlanRequestIn = PLAN_BODY) -> dict[str, Any]:
    """The plan for the body's procedure; a bad body is a 422 listing every problem at once."""
    require(request.auth, "rules.evaluate")
    plan = payload.to_input()
    clinic = getattr(request.auth, "clinic", None)
    if "clinic" not in payload.model_fields_set and clinic is not None:
        plan = replace(plan, clinic_name=clinic.name, clinic_phone=clinic.phone or None)
    return build_plan(plan).as_dict()
