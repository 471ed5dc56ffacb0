"""What the visit templates show: codes turned into words, sections assembled for the page.

Kept out of the views so the page, the summary, the PDFs and the patient version label
things the same way (one place turns `upper_trapezius:right` into "Upper trapezius, right").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.http import QueryDict

from triggerpoint.accounts.policy import can
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment import services
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
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.options import load_history_options
from triggerpoint.assessment.schemas import parse_fibromyalgia
from triggerpoint.assessment.visit_input import SCORE_FIELDS
from triggerpoint.core.rules import RuleInputError

SCORE_ROWS = (
    ("nrs_now", "nrs_pain", "now", "Pain right now"),
    ("nrs_average", "nrs_pain", "average", "Average pain, past 7 days"),
    ("nrs_worst", "nrs_pain", "worst", "Worst pain, past 7 days"),
    ("peg_pain", "peg3", "pain", "PEG · average pain, past week"),
    ("peg_enjoyment", "peg3", "enjoyment", "PEG · interference with enjoyment of life"),
    ("peg_activity", "peg3", "activity", "PEG · interference with general activity"),
)
SEVERITY_LABELS = {
    "fatigue": "Fatigue",
    "waking_unrefreshed": "Waking unrefreshed",
    "cognitive_symptoms": "Cognitive symptoms",
}
SEVERITY_SCALE = ((0, "0 · none"), (1, "1 · slight or mild"), (2, "2 · moderate"), (3, "3 · severe"))
SOMATIC_LABELS = {
    "headaches": "Headaches",
    "lower_abdominal_pain_or_cramps": "Pain or cramps in the lower abdomen",
    "depression": "Depression",
}
FINDING_COLUMNS = (
    ("taut_band", "Taut band"),
    ("tender_spot", "Tender spot"),
    ("recognised_pain", "Recognised pain"),
    ("spontaneous_pain", "Spontaneous pain"),
    ("local_twitch_response", "Twitch"),
    ("jump_sign", "Jump sign"),
    ("focal_nodule", "Nodule"),
)
CLASS_LABELS = {
    "active": "Active trigger point",
    "latent": "Latent trigger point",
    "not_trigger_point": "Not a trigger point",
}
TECHNIQUE_LABELS = {"injection": "Injection", "dry_needling": "Dry needling"}


def _atlas():
    from triggerpoint.atlas.catalog import load_atlas

    return load_atlas()


def _drugs():
    from triggerpoint.catalogues.drugs import load_drugs

    return load_drugs()


def site_label(muscle: str, side: str) -> str:
    atlas = _atlas()
    name = atlas.muscles[muscle].name if atlas.has_muscle(muscle) else muscle.replace("_", " ")
    return f"{name}, {side}"


def zone_label(zone: str) -> str:
    atlas = _atlas()
    return atlas.zones[zone].label if zone in atlas.zones else zone


def option_label(list_id: str, option_id: str) -> str:
    try:
        return load_history_options().list(list_id).get(option_id).label
    except RuleInputError:
        return option_id


def drug_name(drug_id: str) -> str:
    try:
        return _drugs().get(drug_id).name
    except KeyError:
        return drug_id


def _score_texts() -> dict[str, str]:
    from triggerpoint.catalogues.instruments import get_instrument

    texts = {}
    for field, instrument_id, item_id, _label in SCORE_ROWS:
        texts[field] = get_instrument(instrument_id).item(item_id).text.en
    return texts


def _int_or_raw(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


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
            value = _int_or_raw(value)
        setattr(visit, name, value)


# --------------------------------------------------------------------------- the visit page


def _muscle_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for muscle in sorted(_atlas().muscles.values(), key=lambda m: m.name):
        groups.setdefault(muscle.region.replace("_", " ").capitalize(), []).append((muscle.id, muscle.name))
    return sorted(groups.items())


def _drawn_zones(drawing: Mapping[str, Any]) -> list[str]:
    zones = [zone for zone, intensity in (drawing or {}).items() if isinstance(intensity, int) and intensity > 0]
    return sorted(zones, key=lambda z: (-(drawing[z]), zone_label(z)))


def suggestion_context(visit: Visit, drawing: Any, *, checked_referred: Iterable[str] = ()) -> dict[str, Any]:
    """The atlas suggestions for a drawing (ATL-SUGGEST) and the drawn zones offered as referred pain."""
    from triggerpoint.atlas.suggest import suggest

    atlas = _atlas()
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
    return [_finding_row(services.finding_dict(f)) for f in visit.exam_findings.all()]


def _finding_row(finding: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(finding)
    row["site"] = f"{finding.get('muscle_name') or finding['muscle']}, {finding['side']}"
    row["class_label"] = CLASS_LABELS.get(finding["classification"], finding["classification"])
    row["flags"] = [(label, bool(finding.get(name))) for name, label in FINDING_COLUMNS]
    row["present"] = [label for name, label in FINDING_COLUMNS if finding.get(name)]
    row["referred_labels"] = [zone_label(z) for z in finding.get("referred_pain_zones", [])]
    return row


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
                "pneumothorax_risk": _atlas().muscles[finding.muscle].pneumothorax_risk,
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
            {"name": field, "label": label, "question": texts[field], "value": _int_or_raw(getattr(visit, field))}
            for field, _i, _item, label in SCORE_ROWS
        ],
        "score_range": range(11),
        "muscle_groups": _muscle_groups(),
        "finding_fields": [(name, exam_rules.FINDING_LABELS[name]) for name in exam_rules.BOOLEAN_FINDINGS],
        "fm_areas": _fibro_areas(visit),
        "fm_severity": [
            {"name": n, "label": SEVERITY_LABELS[n], "value": _int_or_raw(inputs.get(n, ""))} for n in SEVERITY_ITEMS
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
        "drug_options": sorted(((d.id, d.name) for d in _drugs().drugs.values()), key=lambda d: d[1]),
        "injectate_rows": [(index + 1, row) for index, row in enumerate(injectate[:INJECTATE_ROWS])],
        "techniques": TECHNIQUE_LABELS.items(),
        "adjunct_options": [
            {"id": o.id, "label": o.label, "checked": o.id in (visit.adjuncts or [])} for o in options.list("plan_adjuncts").options
        ],
        "follow_up_options": options.list("follow_up_intervals").options,
        "can_sign": can(user, "assessment.sign", visit),
        "signing": services.signing_check(visit),
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


# --------------------------------------------------------------------------- summaries


def readable(record: Mapping[str, Any]) -> dict[str, Any]:
    """A visit record (snapshot or current) with every code turned into words."""
    drawing = record.get("pain_drawing") or {}
    result = record.get("fibromyalgia_result") or {}
    return {
        "record": record,
        "causes": [
            option_label("suspected_causes", c["id"]) + (f" ({c['detail']})" if c.get("detail") else "")
            for c in record.get("causes") or []
        ],
        "prior_treatments": [
            {
                "label": option_label("prior_treatments", p["id"]) + (f" ({p['detail']})" if p.get("detail") else ""),
                "outcome": option_label("treatment_outcomes", p["outcome"]) if p.get("outcome") else "not recorded",
            }
            for p in record.get("prior_treatments") or []
        ],
        "drawing_rows": [(zone_label(z), drawing[z]) for z in sorted(drawing, key=lambda z: (-drawing[z], zone_label(z)))],
        "drawing_json": json.dumps(drawing),
        "exam_rows": [_finding_row(f) for f in record.get("exam_findings") or []],
        "fibromyalgia": result or None,
        "diagnoses": sorted(record.get("diagnoses") or [], key=lambda d: not d["is_primary"]),
        "planned_sites": [site_label(s["muscle"], s["side"]) for s in record.get("planned_sites") or []],
        "planned_injectate": [
            " ".join(
                part
                for part in (
                    drug_name(i["drug"]),
                    i.get("concentration") or "",
                    f"{i['volume_ml']:g} mL" if i.get("volume_ml") is not None else "",
                )
                if part
            )
            for i in record.get("planned_injectate") or []
        ],
        "technique": TECHNIQUE_LABELS.get(record.get("planned_technique") or "", ""),
        "adjuncts": [option_label("plan_adjuncts", a) for a in record.get("adjuncts") or []],
        "follow_up": option_label("follow_up_intervals", record["follow_up_interval"]) if record.get("follow_up_interval") else "",
        "follow_up_plain": _plain_follow_up(record.get("follow_up_interval") or ""),
        "onset": date.fromisoformat(record["onset_date"]) if record.get("onset_date") else None,
        "visit_day": date.fromisoformat(record["visit_date"]),
        "amended": set(record.get("amended_fields") or []),
        "score_values": [record.get(name) for name in (*SCORE_FIELDS, "peg_score")],
        "amended_scores": bool(set(record.get("amended_fields") or []) & set(SCORE_FIELDS)),
    }


def _plain_follow_up(interval: str) -> str:
    """ "6 weeks (relief can be judged for a repeat)" -> "in 6 weeks" for the patient copy."""
    if not interval:
        return ""
    label = option_label("follow_up_intervals", interval).split(" (")[0]
    return label.lower() if interval == "as_needed" else f"in {label}"


def _change_text(key: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if key == "diagnoses":
        return ", ".join(f"{d['code']}{' (primary)' if d['is_primary'] else ''}" for d in value)
    if key == "exam_findings":
        return "; ".join(f"{f.get('muscle_name', f['muscle'])} {f['side']}: {CLASS_LABELS[f['classification']]}" for f in value)
    if key == "planned_sites":
        return ", ".join(site_label(s["muscle"], s["side"]) for s in value)
    if key == "adjuncts":
        return ", ".join(option_label("plan_adjuncts", a) for a in value)
    if key == "follow_up_interval":
        return option_label("follow_up_intervals", value)
    if isinstance(value, list | dict):
        return json.dumps(value)[:300]
    return str(value)


def amendment_rows(visit: Visit) -> list[dict[str, Any]]:
    return [
        {
            "at": a.amended_at,
            "author": a.author.get_full_name() or a.author.username,
            "reason": a.reason,
            "changes": [
                (key.replace("_", " "), _change_text(key, change["before"]), _change_text(key, change["after"]))
                for key, change in a.changes.items()
            ],
        }
        for a in visit.amendments.select_related("author")
    ]


def summary_context(user, visit: Visit) -> dict[str, Any]:
    current = services.current_record(visit)
    patient = visit.patient
    return {
        "visit": visit,
        "patient": patient,
        "allergies": list(patient.allergies.all()),
        "v": readable(current),
        "amendments": amendment_rows(visit),
        "can_edit": not visit.is_signed and can(user, "assessment.edit", visit),
        "can_amend": visit.is_signed and can(user, "assessment.amend", visit),
        "classify_rule": exam_rules.CLASSIFY_RULE,
        "finding_columns": FINDING_COLUMNS,
    }


PLAIN_CLASS = {
    "active": "a tight, tender knot that causes the pain you feel",
    "latent": "a tight, tender knot that hurts when pressed but is not causing your usual pain",
    "not_trigger_point": "no knot that needs treatment",
}


def patient_summary_context(visit: Visit) -> dict[str, Any]:
    """The patient version: the same record in plain words, without codes or rule names."""
    current = services.current_record(visit)
    v = readable(current)
    knots = [
        {"site": row["site"], "meaning": PLAIN_CLASS[row["classification"]]}
        for row in v["exam_rows"]
    ]
    result = v["fibromyalgia"] or {}
    return {
        "visit": visit,
        "patient": visit.patient,
        "v": v,
        "knots": knots,
        "fibromyalgia_met": bool(result.get("criteria_met")),
        "clinic": visit.clinic,
    }


def amend_context(visit: Visit, current: Mapping[str, Any], *, errors: list[str], posted: QueryDict | None):
    options = load_history_options()
    source = posted if posted is not None else None

    def value(name: str):
        if source is not None and name in source:
            return source.get(name)
        return current.get(name)

    diagnoses = sorted(current.get("diagnoses") or [], key=lambda d: not d["is_primary"])
    return {
        "visit": visit,
        "patient": visit.patient,
        "allergies": list(visit.patient.allergies.all()),
        "errors": errors,
        "text_fields": [
            (name, name.replace("_", " ").capitalize(), value(name) or "")
            for name in ("chief_complaint", "aggravating_factors", "easing_factors", "effect_on_movement",
                         "effect_on_sleep", "effect_on_daily_life", "goals", "plan_notes")
        ],
        "score_rows": [
            {"name": field, "label": label, "value": _int_or_raw(value(field))} for field, _i, _item, label in SCORE_ROWS
        ],
        "score_range": range(11),
        "follow_up_options": options.list("follow_up_intervals").options,
        "follow_up": value("follow_up_interval") or "",
        "adjunct_options": [
            {"id": o.id, "label": o.label,
             "checked": o.id in (source.getlist("adjunct") if source is not None else current.get("adjuncts") or [])}
            for o in options.list("plan_adjuncts").options
        ],
        "diagnosis_codes": value("diagnosis_codes") if source is not None else "\n".join(d["code"] for d in diagnoses),
        "reason": source.get("reason", "") if source is not None else "",
    }
