"""Changes to a draft visit's exam findings: record (classified by ASM-TRP-CLASSIFY) and withdraw."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from triggerpoint.accounts.policy import require
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment.models import ExamFinding, Visit
from triggerpoint.assessment.schemas import parse_exam_finding
from triggerpoint.assessment.visit_drafting import refuse_if_signed
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError

EXAM_INPUT_FIELDS = (
    "muscle",
    "side",
    *exam_rules.BOOLEAN_FINDINGS,
    "referred_pain_zones",
    "pressure_pain_threshold_kg_cm2",
)


def exam_input(data: Mapping[str, Any]) -> tuple[exam_rules.ExamFinding, str]:
    """The pure rule's input from form/API data; every missing or unknown field listed at once."""
    problems: list[str] = []
    values = dict(data)
    notes = values.pop("notes", "") or ""
    if not isinstance(notes, str) or len(notes) > 300:
        problems.append("notes must be text of at most 300 characters")
        notes = ""
    ppt = values.get("pressure_pain_threshold_kg_cm2")
    if ppt in ("", None):
        values["pressure_pain_threshold_kg_cm2"] = None
    elif isinstance(ppt, str):
        try:
            values["pressure_pain_threshold_kg_cm2"] = float(ppt)
        except ValueError:
            problems.append(f"pressure_pain_threshold_kg_cm2 must be a number, not {ppt!r}")
            values["pressure_pain_threshold_kg_cm2"] = None
    try:
        finding = parse_exam_finding(values)
    except RuleInputError as error:
        raise RuleInputError(problems + error.problems) from None
    if problems:
        raise RuleInputError(problems)
    return finding, notes.strip()


@transaction.atomic
def record_exam_finding(user, visit: Visit, data: Mapping[str, Any]) -> ExamFinding:
    """Classify one muscle-side with ASM-TRP-CLASSIFY and store the finding with the rule's answer.

    Recording the same muscle and side again replaces the earlier finding (a re-examination
    during the same draft).
    """
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    finding_input, notes = exam_input(data)
    result = exam_rules.classify_trigger_point(finding_input, atlas=load_atlas())
    row = visit.exam_findings.filter(muscle=finding_input.muscle, side=finding_input.side).first()
    replaced = row is not None
    if row is None:
        row = ExamFinding(clinic=visit.clinic, visit=visit, muscle=finding_input.muscle, side=finding_input.side)
    for flag in exam_rules.BOOLEAN_FINDINGS:
        setattr(row, flag, getattr(finding_input, flag))
    row.referred_zones = sorted(finding_input.referred_pain_zones)
    ppt = finding_input.pressure_pain_threshold_kg_cm2
    row.pressure_pain_threshold_kg_cm2 = Decimal(f"{ppt:.1f}") if ppt is not None else None
    row.notes = notes
    row.classification = result.status.value
    row.meets_lcd_documentation = result.meets_lcd_documentation
    row.rule_id = exam_rules.CLASSIFY_RULE.id
    row.rule_version = exam_rules.CLASSIFY_RULE.version
    row.basis = [finding.as_dict() for finding in result.findings]
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # the same site recorded at the same moment from another screen
        raise RuleInputError(f"{row.muscle} ({row.side}) was just recorded by someone else; reload the visit") from exc
    audit.record(
        "assessment.exam_finding.replaced" if replaced else "assessment.exam_finding.recorded",
        obj=row,
        patient=visit.patient,
        details={
            "visit": str(visit.public_id),
            "muscle": row.muscle,
            "side": row.side,
            "classification": row.classification,
            "rule": f"{row.rule_id} v{row.rule_version}",
        },
    )
    return row


@transaction.atomic
def remove_exam_finding(user, finding: ExamFinding) -> tuple[int, int] | None:
    """Withdraw a draft finding; a planned injection at that site is withdrawn with it.

    Withdrawing the planned site saves the visit, so this returns (version before, version after)
    when it did: an editor open at the version before may carry on from the one after (nobody else
    saved in between), where any other editor's next save is refused as stale.
    """
    visit = finding.visit
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    finding.soft_delete()
    kept = [s for s in visit.planned_sites if (s["muscle"], s["side"]) != (finding.muscle, finding.side)]
    saved = None
    if kept != visit.planned_sites:
        visit.planned_sites = kept
        before = visit.version
        visit.save_versioned(before, fields=["planned_sites"])
        saved = (before, visit.version)
    audit.record(
        "assessment.exam_finding.removed",
        obj=finding,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "muscle": finding.muscle, "side": finding.side},
    )
    return saved

