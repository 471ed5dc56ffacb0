"""`POST /api/v1/aftercare/plan`: the day-by-day plan for a procedure, computed, not stored.

The ARCHITECTURE §8 contract: `{"procedure_date", "sites": [{"muscle", "side"}],
"injectates": [{"drug"}], "patient": {"conditions": [...]}}` in, `{"days": [{"date",
"tasks"}], "activity_restriction_until", "warning_window_until"}` out (plus added fields).
Optional additions: `physical_therapy_planned`, `clinic` {name, phone} (defaults to the
caller's clinic) and `language`. Bad input is a 422 listing every problem.
"""

from __future__ import annotations

from typing import Any

from ninja import Body, Router

from triggerpoint.accounts.policy import require
from triggerpoint.aftercare.plan import build_plan, parse_plan_request

router = Router(tags=["aftercare"])


EXAMPLE = {
    "procedure_date": "2026-03-07",
    "sites": [{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}],
    "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}],
    "patient": {"conditions": ["diabetes"]},
}


@router.post(
    "/plan",
    url_name="aftercare_plan",
    summary="Build an aftercare plan (no side effects)",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}},
)
def aftercare_plan(request, payload: Body[dict]) -> dict[str, Any]:
    """Free-form contract JSON, handed whole to the plan parser so every problem is listed at once."""
    require(request.auth, "rules.evaluate")
    clinic = getattr(request.auth, "clinic", None)
    if isinstance(payload, dict) and "clinic" not in payload and clinic is not None:
        payload = {**payload, "clinic": {"name": clinic.name, **({"phone": clinic.phone} if clinic.phone else {})}}
    return build_plan(parse_plan_request(payload)).as_dict()
