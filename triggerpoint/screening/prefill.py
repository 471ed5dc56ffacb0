"""A new screening starts from the patient's signed assessment plan and procedure appointment, and says so.

The plan (muscles and sides, injectates, technique, guidance) is read through the `assessment_plan` port;
the planned procedure date is the date of the patient's upcoming procedure appointment (the one the
schedule or worklist named, else the next one), read through the `appointments` port, on the clinic's
clock. It fills only a screening being created: `new_screening_prefill` is what the "new screening"
form starts with, and `Prefill.sources_for` keeps the provenance of each part the user left as it was
(a part they changed is theirs, and is not marked as prefilled). The appointment's provenance is
the screening's link to it (``prefilled_from["planned_procedure_date"]["id"]``); otherwise a
screening and an appointment belong together by patient and day (`selectors.screening_planned_for`),
as screening knows nothing of appointments. Nothing here changes a stored screening.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from triggerpoint.screening import appointments, assessment_plan
from triggerpoint.screening.rules import GUIDANCE_MODES, TECHNIQUES

PLAN_PARTS = ("sites", "injectates", "technique", "guidance")
DATE_PART = "planned_procedure_date"


@dataclass(frozen=True)
class Prefill:
    """The plan parts taken from a signed assessment, and where they came from."""

    plan: dict[str, Any] = field(default_factory=dict)  # only the parts that were prefilled
    source: dict[str, str] | None = None  # {"source": "assessment", "id": visit public id, "date": ISO date}
    planned_date: date | None = None  # the appointment's date on the clinic's clock
    # {"source": "appointment", "id": appointment public id, "date": ISO date, "at": "YYYY-MM-DD HH:MM"}
    date_source: dict[str, str] | None = None

    def __bool__(self) -> bool:
        return bool(self.plan)

    @property
    def label(self) -> str:
        return f"from the assessment of {self.source['date']}" if self.source else ""

    @property
    def date_label(self) -> str:
        return source_label(self.date_source) if self.date_source else ""

    def labels(self) -> dict[str, str]:
        """part -> its mark on the form ("from the assessment of …", "from the appointment …")."""
        marked = {part: self.label for part in self.plan}
        if self.planned_date is not None:
            marked[DATE_PART] = self.date_label
        return marked

    def sources_for(self, plan: dict[str, Any], planned_date: date | None = None) -> dict[str, dict[str, str]]:
        """`prefilled_from` for a plan (and date) about to be stored: each part still exactly as prefilled."""
        found = {}
        if self.source:
            found = {part: dict(self.source) for part in self.plan
                     if _comparable(part, plan.get(part)) == _comparable(part, self.plan[part])}
        if self.date_source and planned_date is not None and planned_date == self.planned_date:
            found[DATE_PART] = dict(self.date_source)
        return found


def source_label(source: dict[str, str]) -> str:
    """How a stored `prefilled_from` entry is marked: "from the assessment of …" or "from the appointment …"."""
    if source.get("source") == "appointment":
        return f"from the appointment {source.get('at') or source.get('date')}"
    return f"from the assessment of {source.get('date')}"


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


def new_screening_prefill(patient, appointment_id: Any = None, on: date | None = None) -> Prefill:
    """What a new screening for `patient` starts with: the signed plan and, when the patient has an upcoming
    procedure appointment (the one named by `appointment_id`, else the next), its date on the clinic's clock."""
    started = plan_prefill(patient, on)
    booked = appointments.upcoming_procedure_appointment(patient, appointment_id)
    if not booked:
        return started
    source = {"source": "appointment", "id": booked["id"], "date": booked["date"].isoformat(), "at": booked["at"]}
    return replace(started, planned_date=booked["date"], date_source=source)
