"""A new procedure note starts from what was planned: the screening, the assessment plan, the chart.

`note_prefill` decides what a draft opens with, each value with its source:

* sites (muscle and side, with the planned technique): the screening's plan, else the assessment's;
* the shared mix: the planned drugs (the screening's, else the assessment's), with the
  concentration only when the assessment plan wrote one this note can read ("1%", "40 mg/mL",
  "100 units/mL"); volumes stay for the clinician, who sets them per site;
* guidance: the screening's plan, else the assessment's planned guidance;
* diagnoses: the assessment's ICD-10-CM codes (primary first, amendments applied);
* payer: the patient's payer from the chart, when it is in the coders' table.

Only a new draft is filled (`drafting.create_draft`). Each prefilled field is kept in
`Procedure.prefilled_from` with its source and the value it was given; `still_prefilled` drops a
field the user has since changed, so the editor marks only what is still as planned and a later
save never copies anything over the user's values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from triggerpoint.assessment import visit_reads
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import LOCAL_ANESTHETIC_CLASSES, load_drugs
from triggerpoint.procedures.code_tables import load_code_tables
from triggerpoint.procedures.note import NoteDocument

PREFILLED_FIELDS = ("sites", "mix", "guidance", "diagnosis_codes", "payer")
GUIDANCES = ("landmark", "ultrasound")
TECHNIQUES = ("injection", "dry_needling")

_CONCENTRATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|mg\s*/\s*ml|units?\s*/\s*ml|u\s*/\s*ml)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class NotePrefill:
    """What a new draft opens with; `document` holds only the prefilled fields."""

    document: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def prefilled_from(self, note: NoteDocument) -> dict[str, dict[str, Any]]:
        """The provenance to store: each source with the value it gave (as the parsed note has it)."""
        return {name: dict(self.sources[name], value=comparable(name, note)) for name in self.sources}


def comparable(name: str, note: NoteDocument) -> Any:
    """A prefilled field reduced to what the user chose, to tell whether they changed it."""
    if name == "sites":
        return [[site.muscle, site.side] for site in note.sites]
    if name == "mix":
        return sorted(component.drug for component in note.mix)
    if name == "diagnosis_codes":
        return list(note.diagnosis_codes)
    return getattr(note, name) or ""


def still_prefilled(prefilled_from: dict[str, Any], note: NoteDocument) -> dict[str, Any]:
    """The provenance that still holds after a save: a field the user changed is theirs now."""
    return {
        name: source
        for name, source in (prefilled_from or {}).items()
        if isinstance(source, dict) and name in PREFILLED_FIELDS and comparable(name, note) == source.get("value")
    }


def _screening_source(screening) -> dict[str, Any]:
    on = screening.planned_procedure_date.isoformat()
    return {"source": "screening", "id": str(screening.public_id), "date": on, "label": f"from the screening for {on}"}


def _assessment_source(plan: dict[str, Any]) -> dict[str, Any]:
    on = plan["visit_date"]
    return {"source": "assessment", "id": plan["visit"], "date": on, "label": f"from the assessment of {on}"}


def _concentration(text: str) -> dict[str, float]:
    """A planned concentration the note can hold, or nothing (free text stays for the clinician)."""
    match = _CONCENTRATION.match(text or "")
    if not match:
        return {}
    try:
        amount = float(Decimal(match.group(1)))
    except InvalidOperation:
        return {}
    unit = match.group(2).lower().replace(" ", "")
    key = "concentration_percent" if unit == "%" else "concentration_mg_per_ml" if unit == "mg/ml" else "concentration_units_per_ml"
    return {key: amount}


def _sites(rows, technique: str) -> list[dict[str, Any]]:
    atlas = load_atlas()
    technique = technique if technique in TECHNIQUES else "injection"
    sites, seen = [], set()
    for row in rows or []:
        if not isinstance(row, dict):
            continue
        muscle, side = row.get("muscle"), row.get("side")
        if isinstance(muscle, str) and atlas.has_muscle(muscle) and side in ("left", "right") and (muscle, side) not in seen:
            seen.add((muscle, side))
            sites.append({"muscle": muscle, "side": side, "technique": technique, "uses_shared_mix": technique == "injection"})
    return sites


def _mix(screening_rows, plan_rows) -> list[dict[str, Any]]:
    """The planned drugs, once each; the screening's product form (epinephrine) and the plan's concentration."""
    drugs = load_drugs()
    planned = {row["drug"]: row for row in plan_rows or [] if isinstance(row, dict) and row.get("drug")}
    rows = screening_rows if screening_rows else list(planned.values())
    mix, seen = [], set()
    for row in rows:
        drug_id = row.get("drug") if isinstance(row, dict) else None
        drug = drugs.resolve(drug_id) if isinstance(drug_id, str) else None
        if drug is None or drug.id in seen:
            continue
        seen.add(drug.id)
        component: dict[str, Any] = {"drug": drug.id}
        if drug.id in planned:
            component.update(_concentration(planned[drug.id].get("concentration") or ""))
        if row.get("with_epinephrine") and drug.drug_class in LOCAL_ANESTHETIC_CLASSES:
            component["with_epinephrine"] = True
        mix.append(component)
    return mix


def note_prefill(patient, *, screening=None, assessment=None, guidance: str | None = None) -> NotePrefill:
    """The fields a new draft for `patient` takes from its linked screening and assessment and the chart.

    `guidance` is the one the user chose when opening the note; it wins over the screening's.
    """
    document: dict[str, Any] = {}
    sources: dict[str, dict[str, Any]] = {}
    screening_plan = (screening.plan or {}) if screening is not None else {}
    plan = visit_reads.plan_of(assessment) if assessment is not None else None

    technique = screening_plan.get("technique") or (plan or {}).get("technique") or "injection"
    screening_sites = _sites(screening_plan.get("sites"), technique)
    if screening_sites:
        document["sites"], sources["sites"] = screening_sites, _screening_source(screening)
    elif plan and (plan_sites := _sites(plan["sites"], technique)):
        document["sites"], sources["sites"] = plan_sites, _assessment_source(plan)

    if technique == "injection":
        mix = _mix(screening_plan.get("injectates"), (plan or {}).get("injectates"))
        if mix:
            document["mix"] = mix
            sources["mix"] = _screening_source(screening) if screening_plan.get("injectates") else _assessment_source(plan)

    if guidance is None and screening_plan.get("guidance") in GUIDANCES:
        document["guidance"], sources["guidance"] = screening_plan["guidance"], _screening_source(screening)
    elif guidance is None and plan and plan.get("guidance") in GUIDANCES:
        document["guidance"], sources["guidance"] = plan["guidance"], _assessment_source(plan)

    if plan and plan["diagnosis_codes"]:
        document["diagnosis_codes"], sources["diagnosis_codes"] = list(plan["diagnosis_codes"]), _assessment_source(plan)

    payer = getattr(patient, "payer", "") or ""
    if payer and payer in load_code_tables().payers:
        document["payer"] = payer
        sources["payer"] = {"source": "patient", "id": str(patient.public_id), "label": "from the patient's chart"}
    return NotePrefill(document=document, sources=sources)
