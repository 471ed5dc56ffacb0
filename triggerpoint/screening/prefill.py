"""A new screening starts from the patient's signed assessment plan, and says so.

The plan (muscles and sides, injectates, technique, guidance) is read through the `assessment_plan` port.
It fills only a screening being created: `plan_prefill` is what the "new screening" form starts
with, and `Prefill.sources_for` keeps the provenance of each plan part the user left as it was
(a part they changed is theirs, and is not marked as prefilled). Nothing here changes a stored
screening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from triggerpoint.screening import assessment_plan
from triggerpoint.screening.rules import GUIDANCE_MODES, TECHNIQUES

PLAN_PARTS = ("sites", "injectates", "technique", "guidance")


@dataclass(frozen=True)
class Prefill:
    """The plan parts taken from a signed assessment, and where they came from."""

    plan: dict[str, Any] = field(default_factory=dict)  # only the parts that were prefilled
    source: dict[str, str] | None = None  # {"source": "assessment", "id": visit public id, "date": ISO date}

    def __bool__(self) -> bool:
        return bool(self.plan)

    @property
    def label(self) -> str:
        return f"from the assessment of {self.source['date']}" if self.source else ""

    def sources_for(self, plan: dict[str, Any]) -> dict[str, dict[str, str]]:
        """`prefilled_from` for a plan about to be stored: each part still exactly as prefilled."""
        if not self.source:
            return {}
        return {part: dict(self.source) for part in self.plan if _comparable(part, plan.get(part)) == _comparable(part, self.plan[part])}


def _comparable(part: str, value: Any) -> Any:
    """A plan part reduced to what the user chose: sites in order, the set of drugs, the technique."""
    if part == "sites":
        return [(row.get("muscle"), row.get("side")) for row in value or [] if isinstance(row, dict)]
    if part == "injectates":
        return sorted({row.get("drug") for row in value or [] if isinstance(row, dict)})
    return value or ""


def plan_prefill(patient, on: date | None = None) -> Prefill:
    """What a new screening for `patient` starts with: the latest signed assessment plan, or nothing."""
    signed = assessment_plan.latest_signed_plan(patient, on)
    if not signed:
        return Prefill()
    plan: dict[str, Any] = {}
    if signed.get("sites"):
        plan["sites"] = [{"muscle": row["muscle"], "side": row["side"]} for row in signed["sites"]]
    if signed.get("injectates"):
        drugs = list(dict.fromkeys(row["drug"] for row in signed["injectates"]))
        plan["injectates"] = [{"drug": drug} for drug in drugs]
    if signed.get("technique") in TECHNIQUES:
        plan["technique"] = signed["technique"]
    if signed.get("guidance") in GUIDANCE_MODES:
        plan["guidance"] = signed["guidance"]
    if not plan:
        return Prefill()
    return Prefill(plan=plan, source={"source": "assessment", "id": signed["visit"], "date": signed["visit_date"]})
