"""What the signed record shows: the summary, its patient version in plain words, the amendments, the amend form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.http import QueryDict

from triggerpoint.accounts.policy import can
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment import visit_reads
from triggerpoint.assessment.labels import (
    CLASS_LABELS,
    FINDING_COLUMNS,
    GUIDANCE_LABELS,
    SCORE_ROWS,
    TECHNIQUE_LABELS,
    drug_name,
    finding_row,
    int_or_raw,
    option_label,
    site_label,
    zone_label,
)
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.options import load_history_options
from triggerpoint.assessment.visit_input import SCORE_FIELDS
from triggerpoint.patients.selectors import surviving_chart


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
        "exam_rows": [finding_row(f) for f in record.get("exam_findings") or []],
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
        "guidance": GUIDANCE_LABELS.get(record.get("planned_guidance") or "", ""),
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
    current = visit_reads.current_record(visit)
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
    current = visit_reads.current_record(visit)
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
        "allergies": list(surviving_chart(visit.patient).allergies.all()),  # moved there by a merge
        "errors": errors,
        "text_fields": [
            (name, name.replace("_", " ").capitalize(), value(name) or "")
            for name in ("chief_complaint", "aggravating_factors", "easing_factors", "effect_on_movement",
                         "effect_on_sleep", "effect_on_daily_life", "goals", "plan_notes")
        ],
        "score_rows": [
            {"name": field, "label": label, "value": int_or_raw(value(field))} for field, _i, _item, label in SCORE_ROWS
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
