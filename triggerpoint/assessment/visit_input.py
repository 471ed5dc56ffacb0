"""Check what a clinician entered on an assessment visit and work out the derived scores.

The web form, the JSON API and amendments all send the same shape of changes; this
module turns them into clean values for the visit (or lists *every* problem at once in
a `RuleInputError`), so the three entry points cannot disagree about what is valid.

It also derives what the visit stores but nobody types: the PEG-3 score (through the
outcomes instrument definitions, one implementation) and the 2016 ACR fibromyalgia
result (through `fibromyalgia.score_acr_2016`). Planned injection sites must be sites
the clinician examined and found a trigger point in, because the plan is "pre-filled
from the exam", not a free list.

Pure module: no Django, no ORM, no HTTP. Catalogues are passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from triggerpoint.assessment.exam import SIDES
from triggerpoint.assessment.fibromyalgia import (
    SEVERITY_ITEMS,
    SOMATIC_ITEMS,
    WpiMap,
    score_acr_2016,
)
from triggerpoint.assessment.options import HistoryOptions
from triggerpoint.assessment.schemas import parse_fibromyalgia
from triggerpoint.catalogues.instrument_scoring import score_nrs, score_peg3
from triggerpoint.core import plausible
from triggerpoint.core.choices import GUIDANCES, TECHNIQUES
from triggerpoint.core.rules import RuleInputError

TEXT_FIELDS: dict[str, int] = {
    "chief_complaint": 300,
    "aggravating_factors": 2000,
    "easing_factors": 2000,
    "effect_on_movement": 2000,
    "effect_on_sleep": 2000,
    "effect_on_daily_life": 2000,
    "adjunct_detail": 300,
    "goals": 2000,
    "plan_notes": 4000,
}
SCORE_FIELDS: tuple[str, ...] = ("nrs_now", "nrs_average", "nrs_worst", "peg_pain", "peg_enjoyment", "peg_activity")

# What a caller may send; derived fields (peg_score, fibromyalgia_result) are never accepted.
EDITABLE_FIELDS: tuple[str, ...] = (
    "visit_date",
    "chief_complaint",
    "onset_date",
    "causes",
    "aggravating_factors",
    "easing_factors",
    "effect_on_movement",
    "effect_on_sleep",
    "effect_on_daily_life",
    "prior_treatments",
    "pain_drawing",
    *SCORE_FIELDS,
    "fibromyalgia_inputs",
    "planned_sites",
    "planned_injectate",
    "planned_technique",
    "planned_guidance",
    "adjuncts",
    "adjunct_detail",
    "goals",
    "follow_up_interval",
    "plan_notes",
)
DERIVED_FIELDS: tuple[str, ...] = ("peg_score", "fibromyalgia_result")

PEG_ITEMS = {"peg_pain": "pain", "peg_enjoyment": "enjoyment", "peg_activity": "activity"}
FIBRO_FIELDS: tuple[str, ...] = ("painful_areas", *SEVERITY_ITEMS, *SOMATIC_ITEMS, "symptom_months")


@dataclass(frozen=True)
class VisitCatalogues:
    """Everything the checks look things up in (the atlas, pick-lists, drugs, WPI map)."""

    zone_ids: Collection[str]
    muscle_ids: Collection[str]
    options: HistoryOptions
    drug_ids: Collection[str]
    wpi_map: WpiMap


@dataclass(frozen=True)
class VisitContext:
    """What the checks need to know about the visit being changed."""

    visit_date: date
    # (muscle, side) -> classification ("active" | "latent" | "not_trigger_point") of the examined sites
    examined_sites: Mapping[tuple[str, str], str]
    # the scores currently stored, so a change to one PEG item recomputes the PEG-3 score from all three
    current_scores: Mapping[str, int | None]


def _as_date(name: str, value: Any, problems: list[str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{name} must be a date (YYYY-MM-DD), not {value!r}")
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coded_list(
    name: str, value: Any, list_id: str, options: HistoryOptions, problems: list[str], *, with_outcome: bool = False
) -> list[dict[str, str]]:
    """[{"id", "detail"[, "outcome"]}] checked against the pick-list (each id once)."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.append(f"{name} must be a list of objects with an id")
        return []
    clean: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, row in enumerate(value):
        if isinstance(row, str):
            row = {"id": row}
        if not isinstance(row, Mapping) or not isinstance(row.get("id"), str):
            problems.append(f"{name}[{index}] must be an object with an id")
            continue
        allowed = {"id", "detail", "outcome"} if with_outcome else {"id", "detail"}
        unknown = sorted(set(row) - allowed)
        if unknown:
            problems.append(f"{name}[{index}]: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        option_id = row["id"]
        detail = row.get("detail") or ""
        if not isinstance(detail, str):
            problems.append(f"{name}[{index}]: detail must be text")
            detail = ""
        if option_id in seen:
            problems.append(f"{name}: {option_id} is listed twice")
        seen.add(option_id)
        try:
            options.validate_choices(list_id, {option_id: detail.strip() or None})
        except RuleInputError as error:
            problems.extend(error.problems)
        entry = {"id": option_id, "detail": detail.strip()[:300]}
        if with_outcome:
            outcome = row.get("outcome") or ""
            if outcome:
                try:
                    options.list("treatment_outcomes").get(outcome)
                except RuleInputError as error:
                    problems.extend(f"{name}[{index}]: {p}" for p in error.problems)
            entry["outcome"] = outcome
        clean.append(entry)
    return clean


def _drawing(value: Any, zone_ids: Collection[str], problems: list[str]) -> dict[str, int]:
    """{zone: 0-10}; the body map sends [{"zone", "intensity"}], the API may send either."""
    if value in (None, ""):
        return {}
    rows: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        rows = list(value.items())
    elif isinstance(value, list):
        rows = []
        for index, row in enumerate(value):
            if not isinstance(row, Mapping) or "zone" not in row or "intensity" not in row:
                problems.append(f"pain_drawing[{index}] must have 'zone' and 'intensity'")
                continue
            rows.append((row["zone"], row["intensity"]))
    else:
        problems.append("pain_drawing must map zone ids to intensities 0–10")
        return {}
    drawing: dict[str, int] = {}
    unknown: list[str] = []
    for zone, intensity in rows:
        if not isinstance(zone, str) or zone not in zone_ids:
            unknown.append(str(zone))
            continue
        if zone in drawing:
            problems.append(f"pain_drawing: zone {zone} is drawn twice")
        if not _is_int(intensity) or not 0 <= intensity <= 10:
            problems.append(f"pain_drawing: zone {zone} intensity must be a whole number 0–10, not {intensity!r}")
            continue
        drawing[zone] = intensity
    if unknown:
        problems.append(
            f"pain_drawing: unknown zone id(s) {', '.join(sorted(unknown))}; use the body-map zone ids "
            f"(for example {', '.join(sorted(zone_ids)[:3])})"
        )
    return drawing


def _scores(changes: Mapping[str, Any], context: VisitContext, problems: list[str]) -> dict[str, Any]:
    given = {name: changes[name] for name in SCORE_FIELDS if name in changes}
    clean: dict[str, Any] = {}
    for name, value in given.items():
        if value in ("", None):
            clean[name] = None
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            clean[name] = int(value)
        else:
            clean[name] = value
    merged = {name: context.current_scores.get(name) for name in SCORE_FIELDS} | clean
    try:
        score_nrs(merged["nrs_now"], merged["nrs_average"], merged["nrs_worst"])
    except RuleInputError as error:
        problems.extend(error.problems)
    try:
        peg = score_peg3(merged["peg_pain"], merged["peg_enjoyment"], merged["peg_activity"])
    except RuleInputError as error:
        problems.extend(error.problems)
        return clean
    if set(clean) & set(PEG_ITEMS):
        clean["peg_score"] = Decimal(f"{peg.value:.2f}") if peg.valid else None
    return clean


def _fibromyalgia(value: Any, wpi_map: WpiMap, problems: list[str]) -> tuple[dict, dict]:
    if value in (None, "", {}):
        return {}, {}
    if not isinstance(value, Mapping):
        problems.append("fibromyalgia_inputs must be an object with the 2016 ACR answers")
        return {}, {}
    try:
        symptoms = parse_fibromyalgia(value)
        result = score_acr_2016(symptoms, wpi_map=wpi_map)
    except RuleInputError as error:
        problems.extend(p if p.startswith("fibromyalgia_inputs") else f"fibromyalgia_inputs: {p}" for p in error.problems)
        return {}, {}
    inputs = {
        "painful_areas": sorted(symptoms.painful_areas),
        **{name: getattr(symptoms, name) for name in (*SEVERITY_ITEMS, *SOMATIC_ITEMS, "symptom_months")},
    }
    finding = result.findings[0]
    stored = {
        "rule": finding.rule,
        "rule_version": finding.version,
        "wpi": result.wpi,
        "sss": result.sss,
        "fibromyalgia_severity": result.fibromyalgia_severity,
        "painful_regions": list(result.painful_regions),
        "generalised_pain": result.generalised_pain,
        "wpi_sss_met": result.wpi_sss_met,
        "duration_met": result.duration_met,
        "criteria_met": result.criteria_met,
        "clinician_message": result.clinician_message,
        "message": finding.message,
        "basis": finding.basis,
    }
    return inputs, stored


def _sites(value: Any, context: VisitContext, catalogues: VisitCatalogues, problems: list[str]) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.append("planned_sites must be a list of {muscle, side}")
        return []
    clean: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(value):
        if not isinstance(row, Mapping) or "muscle" not in row or "side" not in row:
            problems.append(f"planned_sites[{index}] must have 'muscle' and 'side'")
            continue
        muscle, side = row["muscle"], row["side"]
        if side not in SIDES:
            problems.append(f"planned_sites[{index}]: side must be one of {', '.join(SIDES)}, not {side!r}")
            continue
        if muscle not in catalogues.muscle_ids:
            problems.append(f"planned_sites[{index}]: unknown muscle {muscle!r}")
            continue
        key = (muscle, side)
        if key in seen:
            problems.append(f"planned_sites: {muscle} ({side}) is planned twice")
        seen.add(key)
        status = context.examined_sites.get(key)
        if status is None:
            problems.append(f"planned_sites: {muscle} ({side}) was not examined at this visit; record the exam first")
        elif status == "not_trigger_point":
            problems.append(
                f"planned_sites: the exam found no trigger point in {muscle} ({side}); injections target trigger points only"
            )
        clean.append({"muscle": muscle, "side": side})
    return clean


def _injectate(value: Any, drug_ids: Collection[str], problems: list[str]) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.append("planned_injectate must be a list of {drug, concentration, volume_ml}")
        return []
    clean = []
    for index, row in enumerate(value):
        if not isinstance(row, Mapping) or "drug" not in row:
            problems.append(f"planned_injectate[{index}] must have a 'drug'")
            continue
        drug = row["drug"]
        if drug not in drug_ids:
            problems.append(f"planned_injectate[{index}]: unknown drug {drug!r}; allowed: {', '.join(sorted(drug_ids))}")
        concentration = row.get("concentration") or ""
        if not isinstance(concentration, str) or len(concentration) > 40:
            problems.append(f"planned_injectate[{index}]: concentration must be short text such as '1%'")
            concentration = ""
        volume = row.get("volume_ml")
        if volume in ("", None):
            volume = None
        else:
            try:
                volume = float(volume)
            except (TypeError, ValueError):
                problems.append(f"planned_injectate[{index}]: volume_ml must be a number, not {volume!r}")
                volume = None
            else:
                if not 0 < volume <= 50:
                    problems.append(f"planned_injectate[{index}]: volume_ml must be above 0 and at most 50 mL")
        clean.append({"drug": drug, "concentration": concentration.strip(), "volume_ml": volume})
    return clean


def parse_visit_changes(
    changes: Mapping[str, Any], context: VisitContext, catalogues: VisitCatalogues
) -> dict[str, Any]:
    """Clean values for the visit fields in `changes`, plus the derived fields they affect.

    Raises RuleInputError listing every problem (unknown fields, unknown codes with the
    allowed values, out-of-range scores, dates in the future of the visit, plans for
    sites without a trigger point).
    """
    if not isinstance(changes, Mapping):
        raise RuleInputError("changes must be an object of visit fields")
    problems: list[str] = []
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        problems.append(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(EDITABLE_FIELDS)}")
    clean: dict[str, Any] = {}
    visit_date = context.visit_date
    if "visit_date" in changes:
        parsed = _as_date("visit_date", changes["visit_date"], problems)
        if parsed is None and changes["visit_date"] in (None, ""):
            problems.append("visit_date is required")
        plausible.check("scheduled", parsed, "visit_date", problems)
        if parsed is not None and not plausible.problem("scheduled", parsed):
            clean["visit_date"] = visit_date = parsed
    if "onset_date" in changes:
        onset = _as_date("onset_date", changes["onset_date"], problems)
        plausible.check("history", onset, "onset_date", problems)
        if onset is not None and onset > visit_date:
            problems.append(f"onset_date {onset.isoformat()} is after the visit date {visit_date.isoformat()}")
        clean["onset_date"] = onset
    for name, limit in TEXT_FIELDS.items():
        if name in changes:
            value = changes[name] if changes[name] is not None else ""
            if not isinstance(value, str):
                problems.append(f"{name} must be text")
            elif len(value) > limit:
                problems.append(f"{name} is too long ({len(value)} characters, at most {limit})")
            else:
                clean[name] = value.strip()
    if "causes" in changes:
        clean["causes"] = _coded_list("causes", changes["causes"], "suspected_causes", catalogues.options, problems)
    if "prior_treatments" in changes:
        clean["prior_treatments"] = _coded_list(
            "prior_treatments", changes["prior_treatments"], "prior_treatments", catalogues.options, problems,
            with_outcome=True,
        )
    if "pain_drawing" in changes:
        clean["pain_drawing"] = _drawing(changes["pain_drawing"], catalogues.zone_ids, problems)
    clean.update(_scores(changes, context, problems))
    if "fibromyalgia_inputs" in changes:
        clean["fibromyalgia_inputs"], clean["fibromyalgia_result"] = _fibromyalgia(
            changes["fibromyalgia_inputs"], catalogues.wpi_map, problems
        )
    if "planned_sites" in changes:
        clean["planned_sites"] = _sites(changes["planned_sites"], context, catalogues, problems)
    if "planned_injectate" in changes:
        clean["planned_injectate"] = _injectate(changes["planned_injectate"], catalogues.drug_ids, problems)
    if "planned_technique" in changes:
        technique = changes["planned_technique"] or ""
        if technique and technique not in TECHNIQUES:
            problems.append(f"planned_technique must be one of {', '.join(TECHNIQUES)}, not {technique!r}")
        clean["planned_technique"] = technique
    if "planned_guidance" in changes:
        guidance = changes["planned_guidance"] or ""
        if guidance and guidance not in GUIDANCES:
            problems.append(f"planned_guidance must be one of {', '.join(GUIDANCES)}, not {guidance!r}")
        clean["planned_guidance"] = guidance
    if "adjuncts" in changes:
        adjuncts = changes["adjuncts"] or []
        if not isinstance(adjuncts, list) or not all(isinstance(a, str) for a in adjuncts):
            problems.append("adjuncts must be a list of option ids")
        else:
            try:
                catalogues.options.validate_choices("plan_adjuncts", dict.fromkeys(adjuncts))
            except RuleInputError as error:
                problems.extend(error.problems)
            clean["adjuncts"] = list(dict.fromkeys(adjuncts))
    if "follow_up_interval" in changes:
        interval = changes["follow_up_interval"] or ""
        if interval:
            try:
                catalogues.options.list("follow_up_intervals").get(interval)
            except RuleInputError as error:
                problems.extend(error.problems)
        clean["follow_up_interval"] = interval
    if problems:
        raise RuleInputError(problems)
    return clean


@dataclass(frozen=True)
class SigningCheck:
    ready: bool
    problems: tuple[str, ...]


def signing_problems(
    *,
    diagnosis_codes: Collection[str],
    primary_count: int,
    examined_sites: Mapping[tuple[str, str], str],
    planned_sites: list[Mapping[str, str]],
    nrs_average: int | None,
) -> SigningCheck:
    """What a visit still needs before a physician can sign it.

    A signed visit is the basis of a claim and of the procedure note: it must name
    at least one diagnosis (exactly one primary), a baseline average pain score, and
    planned sites only where the exam found a trigger point.
    """
    problems: list[str] = []
    if not diagnosis_codes:
        problems.append("add at least one diagnosis (ICD-10-CM)")
    elif primary_count != 1:
        problems.append("mark exactly one diagnosis as primary")
    if nrs_average is None:
        problems.append("record the average pain score (NRS 0–10), the baseline for follow-up")
    for site in planned_sites:
        status = examined_sites.get((site["muscle"], site["side"]))
        if status in (None, "not_trigger_point"):
            problems.append(
                f"the plan names {site['muscle']} ({site['side']}) but the exam found no trigger point there"
            )
    return SigningCheck(ready=not problems, problems=tuple(problems))


def as_json(value: Any) -> Any:
    """Dates as ISO strings, dataclasses as dicts: the form amendments store before/after in."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value
