"""Amending a signed assessment visit: the signed rows stay; the amendment records why and what changed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment.diagnoses import validate_code
from triggerpoint.assessment.exam_findings import EXAM_INPUT_FIELDS, exam_input
from triggerpoint.assessment.models import Visit, VisitAmendment, VisitStatus
from triggerpoint.assessment.visit_input import (
    EDITABLE_FIELDS,
    SCORE_FIELDS,
    VisitContext,
    as_json,
    parse_visit_changes,
)
from triggerpoint.assessment.visit_reads import catalogues, current_record
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError

AMENDABLE_KEYS = (*EDITABLE_FIELDS, "diagnoses", "exam_findings")


def _amended_diagnoses(value: Any, on_date: date) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise RuleInputError("diagnoses must be a list of {code, is_primary}")
    problems: list[str] = []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(value):
        if not isinstance(row, Mapping) or not isinstance(row.get("code"), str):
            problems.append(f"diagnoses[{index}] must have a code")
            continue
        try:
            entry = validate_code(row["code"], on_date)
        except RuleInputError as error:
            problems.extend(f"diagnoses[{index}]: {p}" for p in error.problems)
            continue
        if entry.code in seen:
            problems.append(f"diagnoses: {entry.code} is listed twice")
        seen.add(entry.code)
        clean.append({"code": entry.code, "description": entry.description, "is_primary": bool(row.get("is_primary"))})
    if clean and sum(1 for d in clean if d["is_primary"]) != 1:
        problems.append("diagnoses: mark exactly one as primary")
    if not clean and not problems:
        problems.append("diagnoses: a signed visit keeps at least one diagnosis")
    if problems:
        raise RuleInputError(problems)
    return clean


def _amended_exam(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise RuleInputError("exam_findings must be a list of exam findings")
    problems: list[str] = []
    clean: list[dict[str, Any]] = []
    inputs = []
    for index, row in enumerate(value):
        if not isinstance(row, Mapping):
            problems.append(f"exam_findings[{index}] must be an object")
            continue
        try:
            finding_input, notes = exam_input({k: row[k] for k in (*EXAM_INPUT_FIELDS, "notes") if k in row})
        except RuleInputError as error:
            problems.extend(f"exam_findings[{index}]: {p}" for p in error.problems)
            continue
        inputs.append((finding_input, notes))
    if problems:
        raise RuleInputError(problems)
    atlas = load_atlas()
    results = exam_rules.classify_exam([i for i, _ in inputs], atlas=atlas)
    for (finding_input, notes), result in zip(inputs, results, strict=True):
        ppt = finding_input.pressure_pain_threshold_kg_cm2
        clean.append(
            {
                "muscle": finding_input.muscle,
                "muscle_name": atlas.muscles[finding_input.muscle].name,
                "side": finding_input.side,
                **{flag: getattr(finding_input, flag) for flag in exam_rules.BOOLEAN_FINDINGS},
                "referred_pain_zones": sorted(finding_input.referred_pain_zones),
                "pressure_pain_threshold_kg_cm2": round(ppt, 1) if ppt is not None else None,
                "notes": notes,
                "classification": result.status.value,
                "meets_lcd_documentation": result.meets_lcd_documentation,
                "rule_id": exam_rules.CLASSIFY_RULE.id,
                "rule_version": exam_rules.CLASSIFY_RULE.version,
                "basis": [f.as_dict() for f in result.findings],
            }
        )
    return clean


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


@transaction.atomic
def amend_visit(user, visit: Visit, reason: str, changes: Mapping[str, Any]) -> VisitAmendment:
    """Correct a signed visit: the signed rows stay as they are; the amendment records why and what.

    `changes` uses the same fields as a draft save, plus `diagnoses` ([{code, is_primary}])
    and `exam_findings` (full list, re-classified by the rule) to replace those lists.
    """
    require(user, "assessment.amend", visit)
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.status != VisitStatus.SIGNED:
        raise RuleInputError("only a signed visit is amended; edit the draft instead")
    problems: list[str] = []
    if not isinstance(reason, str) or not reason.strip():
        problems.append("reason: say why the signed visit is being amended")
    if not isinstance(changes, Mapping) or not changes:
        problems.append("changes: name at least one field to amend")
        changes = {}
    unknown = sorted(set(changes) - set(AMENDABLE_KEYS))
    if unknown:
        problems.append(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(AMENDABLE_KEYS)}")
    if problems:
        raise RuleInputError(problems)

    current = current_record(visit)
    after: dict[str, Any] = {}
    exam_after = None
    if "exam_findings" in changes:
        exam_after = _amended_exam(changes["exam_findings"])
        after["exam_findings"] = exam_after
    exam_rows = exam_after if exam_after is not None else current["exam_findings"]
    context = VisitContext(
        visit_date=date.fromisoformat(current["visit_date"]),
        examined_sites={(f["muscle"], f["side"]): f["classification"] for f in exam_rows},
        current_scores={name: current[name] for name in SCORE_FIELDS},
    )
    field_changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    clean = parse_visit_changes(field_changes, context, catalogues())
    after.update({name: as_json(value) for name, value in clean.items()})
    if "diagnoses" in changes:
        on_date = date.fromisoformat(after.get("visit_date", current["visit_date"]))
        after["diagnoses"] = _amended_diagnoses(changes["diagnoses"], on_date)
    if exam_after is not None and "planned_sites" not in after:
        stale = [
            s for s in current["planned_sites"] if context.examined_sites.get((s["muscle"], s["side"])) in (None, "not_trigger_point")
        ]
        if stale:
            raise RuleInputError(
                [f"planned_sites: {s['muscle']} ({s['side']}) no longer has a trigger point; amend the plan too" for s in stale]
            )

    recorded: dict[str, dict[str, Any]] = {}
    for key, value in after.items():
        before = current[key]
        if key in ("diagnoses", "exam_findings"):
            comparable_before = _without_ids(before)
        else:
            comparable_before = before
        if comparable_before != value:
            recorded[key] = {"before": before, "after": value}
    if not recorded:
        raise RuleInputError("nothing changes: every amended value equals the current one")
    amendment = VisitAmendment(
        clinic=visit.clinic,
        visit=visit,
        reason=reason.strip(),
        author=user,
        amended_at=timezone.now(),
        changes=recorded,
    )
    amendment.save()
    audit.record(
        "assessment.visit.amended",
        obj=visit,
        details={"amendment": str(amendment.public_id), "fields": sorted(recorded), "reason": reason.strip()[:200]},
    )
    return amendment
