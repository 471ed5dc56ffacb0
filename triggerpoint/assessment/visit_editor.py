"""What the visit editor shows: the form sections, atlas suggestions, the exam table, the live checks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.http import QueryDict

from triggerpoint.accounts.policy import can
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment import visit_reads, visit_signing
from triggerpoint.assessment.fibromyalgia import (
    ACR_2016_RULE,
    FIBROMYALGIA_MESSAGE,
    SEVERITY_ITEMS,
    SOMATIC_ITEMS,
    load_wpi_map,
    score_acr_2016,
    wpi_areas_from_pain_drawing,
)
from triggerpoint.assessment.forms import INJECTATE_ROWS
from triggerpoint.assessment.labels import (
    CLASS_LABELS,
    GUIDANCE_LABELS,
    SCORE_ROWS,
    SEVERITY_LABELS,
    SEVERITY_SCALE,
    SOMATIC_LABELS,
    TECHNIQUE_LABELS,
    finding_row,
    int_or_raw,
    site_label,
    zone_label,
)
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.options import load_history_options
from triggerpoint.assessment.schemas import parse_fibromyalgia
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.atlas.suggest import suggest
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.catalogues.instruments import get_instrument
from triggerpoint.core.rules import RuleInputError


def _score_texts() -> dict[str, str]:
    texts = {}
    for field, instrument_id, item_id, _label in SCORE_ROWS:
        texts[field] = get_instrument(instrument_id).item(item_id).text.en
    return texts


def apply_unsaved(visit: Visit, changes: Mapping[str, Any]) -> None:
    """Put what the clinician typed back on the (unsaved) visit so a refused save loses nothing."""
    for name, value in changes.items():
        if name in ("visit_date", "onset_date"):
            try:
                value = date.fromisoformat(value) if value else None
            except (TypeError, ValueError):
                continue
            if name == "visit_date" and value is None:
                continue
        elif name == "pain_drawing":
            if isinstance(value, list):
                value = {row.get("zone"): row.get("intensity") for row in value if isinstance(row, Mapping)}
            elif not isinstance(value, Mapping):
                continue
        elif name == "fibromyalgia_inputs":
            pass
        else:
            value = int_or_raw(value)
        setattr(visit, name, value)


def _muscle_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for muscle in sorted(load_atlas().muscles.values(), key=lambda m: m.name):
        groups.setdefault(muscle.region.replace("_", " ").capitalize(), []).append((muscle.id, muscle.name))
    return sorted(groups.items())


def _drawn_zones(drawing: Mapping[str, Any]) -> list[str]:
    zones = [zone for zone, intensity in (drawing or {}).items() if isinstance(intensity, int) and intensity > 0]
    return sorted(zones, key=lambda z: (-(drawing[z]), zone_label(z)))


def suggestion_context(visit: Visit, drawing: Any, *, checked_referred: Iterable[str] = ()) -> dict[str, Any]:
    """The atlas suggestions for a drawing (ATL-SUGGEST) and the drawn zones offered as referred pain."""
    atlas = load_atlas()
    if isinstance(drawing, list):
        drawing = {row.get("zone"): row.get("intensity") for row in drawing if isinstance(row, Mapping)}
    if not isinstance(drawing, Mapping):
        drawing = {}
    clean = {z: i for z, i in drawing.items() if z in atlas.zones and isinstance(i, int) and 0 <= i <= 10}
    candidates: list[dict[str, Any]] = []
    problem = ""
    examined = {(f.muscle, f.side): f.classification for f in visit.exam_findings.all()}
    if any(i > 0 for i in clean.values()):
        try:
            found = suggest(clean, atlas, limit=8)
        except RuleInputError as error:
            problem = "; ".join(error.problems)
            found = []
        for candidate in found:
            muscle = atlas.muscles[candidate.muscle]
            candidates.append(
                {
                    "muscle": candidate.muscle,
                    "side": candidate.side,
                    "name": candidate.name,
                    "score": candidate.score,
                    "matched": [zone_label(z) for z in candidate.matched_zones],
                    "pneumothorax_risk": muscle.pneumothorax_risk,
                    "examined": CLASS_LABELS.get(examined.get((candidate.muscle, candidate.side), ""), ""),
                }
            )
    checked = set(checked_referred)
    return {
        "visit": visit,
        "candidates": candidates,
        "suggest_problem": problem,
        "has_drawing": any(i > 0 for i in clean.values()),
        "referred_options": [(z, zone_label(z), z in checked) for z in _drawn_zones(clean)],
    }


def _exam_rows(visit: Visit) -> list[dict[str, Any]]:
    return [finding_row(visit_reads.finding_dict(f)) for f in visit.exam_findings.all()]


def _plan_sites(visit: Visit, planned: Iterable[str] | None) -> list[dict[str, Any]]:
    """Examined sites with a trigger point; ticked as planned, or (untouched plan) when active."""
    chosen = set(planned) if planned is not None else {f"{s['muscle']}:{s['side']}" for s in visit.planned_sites}
    untouched = planned is None and not visit.planned_sites
    sites = []
    for finding in visit.exam_findings.all():
        if finding.classification == "not_trigger_point":
            continue
        value = f"{finding.muscle}:{finding.side}"
        sites.append(
            {
                "value": value,
                "label": site_label(finding.muscle, finding.side),
                "classification": finding.classification,
                "class_label": CLASS_LABELS[finding.classification],
                "checked": value in chosen or (untouched and finding.classification == "active"),
                "pneumothorax_risk": load_atlas().muscles[finding.muscle].pneumothorax_risk,
            }
        )
    return sites


def exam_context(visit: Visit, *, errors: list[str], planned: Iterable[str] | None, just_added=None) -> dict[str, Any]:
    return {
        "visit": visit,
        "exam_rows": _exam_rows(visit),
        "exam_errors": errors,
        "plan_sites": _plan_sites(visit, planned),
        "just_added": just_added,
        "editable": True,
    }


def _fibro_areas(visit: Visit) -> list[tuple[str, list[dict[str, Any]]]]:
    wpi_map = load_wpi_map()
    inputs = visit.fibromyalgia_inputs or {}
    if inputs.get("painful_areas") is not None and inputs:
        ticked = set(inputs.get("painful_areas", []))
        from_drawing = False
    else:
        drawn = [z for z in _drawn_zones(visit.pain_drawing or {})]
        try:
            ticked = set(wpi_areas_from_pain_drawing(drawn, wpi_map=wpi_map).areas)
        except RuleInputError:
            ticked = set()
        from_drawing = True
    groups = []
    for region_id, region_label in wpi_map.regions.items():
        areas = [
            {"id": a.id, "label": a.label, "checked": a.id in ticked, "from_drawing": from_drawing and a.id in ticked}
            for a in wpi_map.areas.values()
            if a.region == region_id
        ]
        groups.append((region_label, areas))
    return groups


def fibromyalgia_preview(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Score the answers without saving (the live check button)."""
    if not inputs:
        return {"fm_result": None, "fm_errors": ["Answer the severity, symptom and duration questions first."]}
    try:
        result = score_acr_2016(parse_fibromyalgia(inputs))
    except RuleInputError as error:
        return {"fm_result": None, "fm_errors": error.problems}
    finding = result.findings[0]
    return {
        "fm_result": {
            "wpi": result.wpi,
            "sss": result.sss,
            "criteria_met": result.criteria_met,
            "clinician_message": result.clinician_message,
            "message": finding.message,
            "basis": finding.basis,
            "rule": finding.rule,
            "rule_version": finding.version,
        },
        "fm_errors": [],
    }


def visit_page_context(user, visit: Visit, *, errors: list[str] | None = None, posted: QueryDict | None = None):
    options = load_history_options()
    texts = _score_texts()
    causes = {c.get("id"): c.get("detail", "") for c in (visit.causes or []) if isinstance(c, Mapping)}
    prior = {p.get("id"): p for p in (visit.prior_treatments or []) if isinstance(p, Mapping)}
    inputs = visit.fibromyalgia_inputs or {}
    drawing = visit.pain_drawing if isinstance(visit.pain_drawing, Mapping) else {}
    injectate = list(visit.planned_injectate or [])
    injectate += [{}] * (INJECTATE_ROWS - len(injectate))
    planned = posted.getlist("planned_site") if posted is not None else None
    patient = visit.patient
    context = {
        "visit": visit,
        "patient": patient,
        "allergies": list(patient.allergies.all()),
        "errors": errors or [],
        "cause_options": [
            {"id": o.id, "label": o.label, "requires_text": o.requires_text, "checked": o.id in causes,
             "detail": causes.get(o.id, "")}
            for o in options.list("suspected_causes").options
        ],
        "prior_options": [
            {"id": o.id, "label": o.label, "requires_text": o.requires_text, "checked": o.id in prior,
             "outcome": (prior.get(o.id) or {}).get("outcome", ""), "detail": (prior.get(o.id) or {}).get("detail", "")}
            for o in options.list("prior_treatments").options
        ],
        "outcome_options": options.list("treatment_outcomes").options,
        "drawing_json": json.dumps([{"zone": z, "intensity": i} for z, i in drawing.items()]),
        "score_rows": [
            {"name": field, "label": label, "question": texts[field], "value": int_or_raw(getattr(visit, field))}
            for field, _i, _item, label in SCORE_ROWS
        ],
        "score_range": range(11),
        "muscle_groups": _muscle_groups(),
        "finding_fields": [(name, exam_rules.FINDING_LABELS[name]) for name in exam_rules.BOOLEAN_FINDINGS],
        "fm_areas": _fibro_areas(visit),
        "fm_severity": [
            {"name": n, "label": SEVERITY_LABELS[n], "value": int_or_raw(inputs.get(n, ""))} for n in SEVERITY_ITEMS
        ],
        "fm_somatic": [
            {"name": n, "label": SOMATIC_LABELS[n], "value": {True: "yes", False: "no"}.get(inputs.get(n), "")}
            for n in SOMATIC_ITEMS
        ],
        "fm_months": inputs.get("symptom_months", ""),
        "fm_scale": SEVERITY_SCALE,
        "fm_result": visit.fibromyalgia_result or None,
        "fm_rule": ACR_2016_RULE,
        "fm_message": FIBROMYALGIA_MESSAGE,
        "diagnoses": list(visit.diagnoses.all()),
        "drug_options": sorted(((d.id, d.name) for d in load_drugs().drugs.values()), key=lambda d: d[1]),
        "injectate_rows": [(index + 1, row) for index, row in enumerate(injectate[:INJECTATE_ROWS])],
        "techniques": TECHNIQUE_LABELS.items(),
        "guidances": GUIDANCE_LABELS.items(),
        "adjunct_options": [
            {"id": o.id, "label": o.label, "checked": o.id in (visit.adjuncts or [])} for o in options.list("plan_adjuncts").options
        ],
        "follow_up_options": options.list("follow_up_intervals").options,
        "can_sign": can(user, "assessment.sign", visit),
        "signing": visit_signing.signing_check(visit),
        "classify_rule": exam_rules.CLASSIFY_RULE,
        "lcd_rule": exam_rules.LCD_DOCUMENTATION_RULE,
    }
    context.update(suggestion_context(visit, drawing))
    context.update(exam_context(visit, errors=[], planned=planned))
    return context


def code_rows(results, on_date: date) -> list[dict[str, Any]]:
    return [
        {
            "code": entry.code,
            "description": entry.description,
            "billable": entry.billable_on(on_date),
            "notes": entry.notes,
        }
        for entry in results
    ]

