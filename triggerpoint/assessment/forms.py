"""Turn the visit page's POST data into the change shape the services take.

The page is one HTML form (so unsaved edits survive the htmx calls that add exam
findings and diagnoses); this module reads it section by section. Validation itself
happens once, in `visit_input.parse_visit_changes`, for the page and the API alike.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import QueryDict

from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment.fibromyalgia import SEVERITY_ITEMS, SOMATIC_ITEMS
from triggerpoint.assessment.visit_input import SCORE_FIELDS

INJECTATE_ROWS = 3
HISTORY_TEXT = (
    "chief_complaint",
    "aggravating_factors",
    "easing_factors",
    "effect_on_movement",
    "effect_on_sleep",
    "effect_on_daily_life",
)
PLAN_TEXT = ("adjunct_detail", "goals", "plan_notes")


def _drawing(raw: str) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return "malformed"


def parse_site(value: str) -> dict[str, str] | None:
    muscle, _, side = value.partition(":")
    return {"muscle": muscle, "side": side} if muscle and side else None


def visit_changes(post: QueryDict) -> dict[str, Any]:
    """Every visit field the page shows, in the services' change shape."""
    changes: dict[str, Any] = {name: post.get(name, "") for name in HISTORY_TEXT + PLAN_TEXT}
    changes["visit_date"] = post.get("visit_date", "")
    changes["onset_date"] = post.get("onset_date", "")
    changes["causes"] = [
        {"id": cause, "detail": post.get(f"cause_detail_{cause}", "")} for cause in post.getlist("cause")
    ]
    changes["prior_treatments"] = [
        {
            "id": treatment,
            "outcome": post.get(f"prior_outcome_{treatment}", ""),
            "detail": post.get(f"prior_detail_{treatment}", ""),
        }
        for treatment in post.getlist("prior")
    ]
    changes["pain_drawing"] = _drawing(post.get("pain_drawing", ""))
    for name in SCORE_FIELDS:
        changes[name] = post.get(name, "")
    changes["fibromyalgia_inputs"] = fibromyalgia_inputs(post)
    changes["planned_sites"] = [site for site in map(parse_site, post.getlist("planned_site")) if site]
    changes["planned_injectate"] = [
        {
            "drug": post.get(f"inj_drug_{row}"),
            "concentration": post.get(f"inj_conc_{row}", ""),
            "volume_ml": post.get(f"inj_vol_{row}", ""),
        }
        for row in range(1, INJECTATE_ROWS + 1)
        if post.get(f"inj_drug_{row}")
    ]
    changes["planned_technique"] = post.get("planned_technique", "")
    changes["planned_guidance"] = post.get("planned_guidance", "")
    changes["adjuncts"] = post.getlist("adjunct")
    changes["follow_up_interval"] = post.get("follow_up_interval", "")
    return changes


def fibromyalgia_inputs(post: QueryDict) -> dict[str, Any]:
    """The 2016 ACR answers, or {} when the check was not done.

    The WPI areas are pre-ticked from the drawing, so ticked areas alone do not count
    as doing the check: only an answer to a severity, symptom or duration question does.
    """
    answered = [name for name in (*SEVERITY_ITEMS, *SOMATIC_ITEMS, "symptom_months") if post.get(f"fm_{name}", "") != ""]
    if not answered:
        return {}
    inputs: dict[str, Any] = {"painful_areas": post.getlist("fm_area")}
    for name in SEVERITY_ITEMS:
        value = post.get(f"fm_{name}", "")
        if value != "":
            inputs[name] = int(value) if value.isdigit() else value
    for name in SOMATIC_ITEMS:
        value = post.get(f"fm_{name}", "")
        if value in ("yes", "no"):
            inputs[name] = value == "yes"
    months = post.get("fm_symptom_months", "")
    if months != "":
        inputs["symptom_months"] = int(months) if months.isdigit() else months
    return inputs


def exam_data(post: QueryDict) -> dict[str, Any]:
    """One exam entry: a ticked box is a finding present, an unticked box one looked for and absent."""
    data: dict[str, Any] = {
        "muscle": post.get("exam_muscle", ""),
        "side": post.get("exam_side", ""),
        "referred_pain_zones": post.getlist("exam_referred"),
        "pressure_pain_threshold_kg_cm2": post.get("exam_ppt", ""),
        "notes": post.get("exam_notes", ""),
    }
    for flag in exam_rules.BOOLEAN_FINDINGS:
        data[flag] = post.get(f"exam_{flag}") == "on"
    return data


def amendment_changes(post: QueryDict, current: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the physician actually changed on the amendment form."""
    changes: dict[str, Any] = {}
    for name in HISTORY_TEXT + PLAN_TEXT:
        if name in post and post.get(name, "").strip() != (current.get(name) or ""):
            changes[name] = post.get(name, "")
    for name in SCORE_FIELDS:
        if name in post:
            raw = post.get(name, "")
            value = int(raw) if raw.isdigit() else (None if raw == "" else raw)
            if value != current.get(name):
                changes[name] = value
    if "follow_up_interval" in post and post.get("follow_up_interval", "") != (current.get("follow_up_interval") or ""):
        changes["follow_up_interval"] = post.get("follow_up_interval", "")
    if post.get("adjuncts_shown") and sorted(post.getlist("adjunct")) != sorted(current.get("adjuncts") or []):
        changes["adjuncts"] = post.getlist("adjunct")
    if "diagnosis_codes" in post:
        codes = [line.strip() for line in post.get("diagnosis_codes", "").replace(",", "\n").splitlines() if line.strip()]
        proposed = [{"code": code.upper(), "is_primary": index == 0} for index, code in enumerate(codes)]
        existing = [{"code": d["code"], "is_primary": d["is_primary"]} for d in current.get("diagnoses", [])]
        existing.sort(key=lambda d: not d["is_primary"])
        if [d["code"] for d in proposed] != [d["code"] for d in existing]:
            changes["diagnoses"] = proposed
    return changes
