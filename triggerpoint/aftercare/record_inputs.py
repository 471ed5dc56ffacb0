"""What an aftercare plan is built from, read from the record: the patient's conditions (bleeding
risk from their medications and risk factors), whether physical therapy is planned, and the plan
request for one signed note or for every note of a day.

Pure reads; the changes a plan goes through are in ``services``.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.patients.language import page_language
from triggerpoint.patients.selectors import surviving_chart
from triggerpoint.screening.content import load_blood_thinners
from triggerpoint.screening.facts import medication_name_for_matching
from triggerpoint.screening.rules_bleeding import ANTITHROMBOTIC_CLASSES, haematoma_warning_needed


def patient_conditions(patient) -> list[str]:
    """The plan template's conditions this patient has, from coded facts only.

    Diabetes: a `diabetes` risk factor, or an active medication of the antidiabetic class
    (someone on metformin has diabetes even if nobody ticked the risk factor). High blood
    pressure is not coded anywhere in the record yet, so its note is never triggered here.
    """
    known = set(load_template().conditions)
    found: set[str] = set()
    if patient.risk_factors.filter(kind="diabetes").exists():
        found.add("diabetes")
    if patient.medications.filter(active=True, drug_class="antidiabetic").exists():
        found.add("diabetes")
    return sorted(found & known)


def _haematoma_condition(procedure) -> list[str]:
    """``haematoma_risk`` when a treated site is deep and non-compressible and the patient takes a blood thinner
    (chart), or the procedure's screening found a deep-site bleeding risk (e.g. a high INR): the same test as
    screening SCR-DEEP-SITE-BLEEDING (`haematoma_warning_needed`), so the plan warns the patient it flagged."""
    atlas = load_atlas()
    deep = any(atlas.has_muscle(site.muscle) and atlas.muscle(site.muscle).non_compressible
               for site in procedure.sites.all())
    table = load_blood_thinners()
    thinners = sum(
        1
        for medication in surviving_chart(procedure.patient).medications.filter(active=True)  # moved there by a merge
        if medication.drug_class in ANTITHROMBOTIC_CLASSES or table.find(medication_name_for_matching(medication.name))
    )
    screening = getattr(procedure, "screening", None)
    flagged = bool(screening) and any(
        finding.get("rule_id") == "SCR-DEEP-SITE-BLEEDING" and finding.get("data", {}).get("inr_above_range")
        for finding in (screening.findings or [])
    )
    return ["haematoma_risk"] if haematoma_warning_needed(deep, thinners, flagged) else []


def physical_therapy_planned(procedure) -> bool:
    """Whether the assessment visit this procedure came from planned physical therapy alongside it."""
    visit = getattr(procedure, "assessment", None)
    return "physical_therapy" in (getattr(visit, "adjuncts", None) or [])


def plan_request_for(procedure, *, physical_therapy: bool | None = None) -> dict[str, Any]:
    """The `aftercare/plan` contract body for a stored procedure (what the plan is built from)."""
    return day_plan_request_for([procedure], physical_therapy=physical_therapy)


def day_plan_request_for(procedures, *, physical_therapy: bool | None = None) -> dict[str, Any]:
    """The contract body for one patient's notes of one procedure date, as one plan.

    The union of what the notes need: every site and injectate (first note first, each once),
    every condition (a haematoma warning that any one note triggers stays), physical therapy
    if any note's visit planned it. A steroid in a later note therefore brings its warnings
    and tasks into the day's plan; nothing a note requires is dropped.
    """
    first = procedures[0]
    clinic = first.clinic
    patient = surviving_chart(first.patient)  # a note on a chart since merged: the survivor holds its medications
    clinic_facts: dict[str, str] = {"name": clinic.name}
    if clinic.phone:
        clinic_facts["phone"] = clinic.phone
    sites = dict.fromkeys((site.muscle, site.side) for procedure in procedures for site in procedure.sites.all())
    drugs = dict.fromkeys(i.drug for procedure in procedures for i in procedure.injectates.all())
    conditions = set(patient_conditions(patient))
    for procedure in procedures:
        conditions.update(_haematoma_condition(procedure))
    if physical_therapy is None:
        physical_therapy = any(physical_therapy_planned(procedure) for procedure in procedures)
    return {
        "procedure_date": first.procedure_date.isoformat(),
        "sites": [{"muscle": muscle, "side": side} for muscle, side in sites],
        "injectates": [{"drug": drug} for drug in drugs],
        "patient": {"conditions": sorted(conditions)},
        "physical_therapy_planned": bool(physical_therapy),
        "clinic": clinic_facts,
        "language": page_language(patient),
    }


