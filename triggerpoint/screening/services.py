"""Named state changes of screenings and consents; each is one transaction with its audit event.

The flow: staff create a screening for a planned procedure (the plan: sites, injectates,
guidance) → the patient answers the questionnaire (link, portal) and the nurse completes it
on the day → the pure rules evaluate it on the chart's facts and the answers → a physician
reviews it, or overrides a `defer`/`contraindicated` result with a reason → a consent is
generated from the plan and signed. `screening_allows_procedure` is the gate the procedure
note calls: it never lets a blocking or unevaluated screening through.

Here: the screening record's steps and the preparation instructions. The questionnaire link
is in ``questionnaire_link`` and the consent record's steps in ``consent_records``; both
import this module (`ScreeningStateError`, the gate), never the other way.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening import facts, signals
from triggerpoint.screening.answers import merge_answers, parse_answers
from triggerpoint.screening.models import (
    BLOCKING_STATUSES,
    ScreeningRecord,
    ScreeningStatus,
)
from triggerpoint.screening.prefill import Prefill
from triggerpoint.screening.preparation import Instruction, build_preparation
from triggerpoint.screening.rules import (
    RULES,
    Medication,
    PatientFacts,
    evaluate,
    parse_plan,
    parse_screening_request,
)

ANSWER_SOURCES = ("staff", "patient_link", "portal")
OVERRIDE_REASON_MIN_LENGTH = 10


class ScreeningStateError(ValueError):
    """The screening is not in a state that allows this step (shown to the user as is)."""


# ------------------------------------------------------------------ screening records
@transaction.atomic
def create_screening(
    user, patient, planned_procedure_date: date, plan: dict[str, Any], *, prefill: Prefill | None = None
) -> ScreeningRecord:
    """A screening for one planned procedure; the plan is checked against the atlas and drug catalogue.

    `prefill` is what the form started with (`prefill.new_screening_prefill`): each plan part (and the
    planned date) still as prefilled is recorded in `prefilled_from` with its source; a part the user
    changed is not.
    """
    require(user, "screening.edit", patient)
    parsed = parse_plan(plan)  # RuleInputError lists every unknown muscle, drug or mode
    stored_plan = {
        "sites": [{"muscle": site.muscle, "side": site.side} for site in parsed.sites],
        "injectates": [_stored_injectate(injectate) for injectate in parsed.injectates],
        "guidance": parsed.guidance,
        "technique": parsed.technique,
    }
    if parsed.trigger_points_documented is not None:
        stored_plan["trigger_points_documented"] = parsed.trigger_points_documented
    screening = ScreeningRecord.objects.create(
        clinic=patient.clinic,
        patient=patient,
        planned_procedure_date=planned_procedure_date,
        plan=stored_plan,
        prefilled_from=prefill.sources_for(stored_plan, planned_procedure_date) if prefill is not None else {},
    )
    audit.record(
        "screening.screening.created",
        obj=screening,
        details={
            "planned_procedure_date": planned_procedure_date.isoformat(),
            "plan": stored_plan,
            "prefilled_from": screening.prefilled_from,
        },
    )
    signals.screening_created.send(sender=ScreeningRecord, screening=screening)
    return screening


def _stored_injectate(injectate) -> dict[str, Any]:
    """A planned injectate as stored: the drug, and the form (epinephrine, vial) when the plan says it."""
    stored: dict[str, Any] = {"drug": injectate.drug}
    if injectate.with_epinephrine is not None:
        stored["with_epinephrine"] = injectate.with_epinephrine
    if injectate.vial is not None:
        stored["vial"] = injectate.vial
    return stored


def view_screening(user, screening: ScreeningRecord, *, channel: str = "ui") -> ScreeningRecord:
    """Record one read of a screening."""
    audit.record("screening.screening.viewed", obj=screening, details={"channel": channel})
    return screening


@transaction.atomic
def record_answers(
    screening: ScreeningRecord,
    answers: dict[str, Any],
    *,
    source: str,
    user=None,
    expected_version: int | None = None,
) -> ScreeningRecord:
    """Store (part of) the questionnaire and evaluate again.

    `source` is who answered: ``staff`` (needs `screening.edit`), ``portal`` (the patient
    signed in, `screening.answer`) or ``patient_link`` (the caller resolved a valid link for
    this screening). Answers are merged over earlier ones. A changed evaluation clears an
    earlier review and override: they were given for other findings.
    """
    if source not in ANSWER_SOURCES:
        raise ValueError(f"source must be one of {', '.join(ANSWER_SOURCES)}")
    if source == "staff":
        require(user, "screening.edit", screening)
    elif source == "portal":
        require(user, "screening.answer", screening)
    if source != "staff" and (screening.reviewed_at or screening.overridden_at):
        raise ScreeningStateError("Your answers were already reviewed. Please call the clinic to change them.")
    today = screening.clinic.today()
    cleaned = parse_answers(answers, screening.planned_procedure_date, today)
    screening.answers = merge_answers(screening.answers or {}, cleaned)
    screening.answers_source = source
    screening.answers_submitted_at = timezone.now()
    screening.save_versioned(
        expected_version if expected_version is not None else screening.version,
        fields=["answers", "answers_source", "answers_submitted_at"],
    )
    audit.record(
        "screening.answers.recorded",
        obj=screening,
        details={"source": source, "answered": sorted(cleaned)},
    )
    return evaluate_screening(screening)


def _finding_record(finding) -> dict[str, Any]:
    rule = RULES[finding.rule]
    return {
        "rule_id": finding.rule,
        "rule_version": finding.version,
        "rule_title": rule.title,
        "severity": finding.severity,
        "message": finding.message,
        "basis": finding.basis,
        "sources": list(rule.sources),
        "data": finding.data,
    }


def _signature_of(findings: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(f["rule_id"], f["severity"], f["message"]) for f in findings]


@transaction.atomic
def evaluate_screening(screening: ScreeningRecord) -> ScreeningRecord:
    """Run the pure rules on the chart's facts and the answers; store findings with rule id and version.

    Missing facts leave the status `pending` with every missing fact listed (never a silent
    `ready`). When a new or changed finding appears, an earlier review or override is cleared.
    """
    screening.refresh_from_db()
    policy = facts.policy_for(screening.clinic)
    request = facts.screening_request(screening, policy)
    previous = _signature_of(screening.findings or [])
    previous_status = screening.status
    try:
        result = evaluate(parse_screening_request(request), policy)
    except RuleInputError as exc:
        screening.status = ScreeningStatus.PENDING
        screening.findings = []
        screening.missing_facts = [{"problem": problem, "hint": facts.hint_for(problem)} for problem in exc.problems]
    else:
        screening.status = result.status
        screening.findings = [_finding_record(finding) for finding in result.findings]
        screening.missing_facts = []
    screening.evaluated_at = timezone.now()
    screening.evaluated_facts = {"request": request, "policy": _policy_snapshot(policy)}
    fields = ["status", "findings", "missing_facts", "evaluated_at", "evaluated_facts"]
    # A sign-off stands while nothing new appears: a finding that went away (say, the
    # temperature was taken and is normal) does not need a second review; a new or
    # changed finding, or a pending result, does.
    added = set(_signature_of(screening.findings)) - set(previous)
    changed = bool(added) or (screening.status != previous_status and screening.status == ScreeningStatus.PENDING)
    cleared = []
    if changed and screening.reviewed_at:
        screening.reviewed_by, screening.reviewed_at, screening.review_note = None, None, ""
        fields += ["reviewed_by", "reviewed_at", "review_note"]
        cleared.append("review")
    if changed and screening.overridden_at:
        screening.overridden_by, screening.overridden_at, screening.override_reason = None, None, ""
        fields += ["overridden_by", "overridden_at", "override_reason"]
        cleared.append("override")
    screening.save_versioned(screening.version, fields=fields)
    audit.record(
        "screening.screening.evaluated",
        obj=screening,
        details={
            "status": screening.status,
            "rules": [[f["rule_id"], f["rule_version"], f["severity"]] for f in screening.findings],
            "missing_facts": len(screening.missing_facts),
            "cleared": cleared,
        },
    )
    return screening


def _policy_snapshot(policy) -> dict[str, Any]:
    return {
        key: (sorted(value) if isinstance(value, frozenset) else str(value) if not isinstance(value, int) else value)
        for key, value in asdict(policy).items()
    }


@transaction.atomic
def review_screening(user, screening: ScreeningRecord, *, note: str = "", expected_version: int) -> ScreeningRecord:
    """A physician's sign-off that the findings were read and the plan stands."""
    require(user, "screening.review", screening)
    if screening.status == ScreeningStatus.PENDING:
        raise ScreeningStateError("This screening has not been evaluated: the missing facts are listed on the page.")
    screening.reviewed_by = user
    screening.reviewed_at = timezone.now()
    screening.review_note = (note or "").strip()
    screening.save_versioned(expected_version, fields=["reviewed_by", "reviewed_at", "review_note"])
    audit.record(
        "screening.screening.reviewed",
        obj=screening,
        details={"status": screening.status, "note": bool(screening.review_note)},
    )
    return screening


@transaction.atomic
def override_screening(user, screening: ScreeningRecord, *, reason: str, expected_version: int) -> ScreeningRecord:
    """A physician lets a `defer` or `contraindicated` screening proceed; the reason is required and audited."""
    require(user, "screening.override", screening)
    reason = (reason or "").strip()
    if len(reason) < OVERRIDE_REASON_MIN_LENGTH:
        raise ScreeningStateError(
            f"An override needs a reason of at least {OVERRIDE_REASON_MIN_LENGTH} characters, in words a colleague can follow."
        )
    if screening.status not in BLOCKING_STATUSES:
        raise ScreeningStateError("Only a deferred or contraindicated screening needs an override.")
    now = timezone.now()
    screening.overridden_by = user
    screening.overridden_at = now
    screening.override_reason = reason
    screening.reviewed_by = user
    screening.reviewed_at = now
    screening.save_versioned(
        expected_version, fields=["overridden_by", "overridden_at", "override_reason", "reviewed_by", "reviewed_at"]
    )
    audit.record(
        "screening.screening.overridden",
        obj=screening,
        details={
            "status": screening.status,
            "reason": reason,
            "overridden_rules": [
                [f["rule_id"], f["rule_version"], f["severity"]]
                for f in screening.findings
                if f["severity"] in BLOCKING_STATUSES
            ],
        },
    )
    return screening


def screening_allows_procedure(screening: ScreeningRecord | None) -> bool:
    """May a procedure start from this screening?

    False when there is none, it was never evaluated (missing facts), or it is `defer` /
    `contraindicated` without a physician override. `review` passes: the findings are shown
    on the procedure note and the physician decides.
    """
    if screening is None or screening.deleted_at is not None:
        return False
    if screening.status == ScreeningStatus.PENDING:
        return False
    if screening.status in BLOCKING_STATUSES:
        return screening.overridden_at is not None
    return True


def screening_needs_review(screening: ScreeningRecord) -> bool:
    """A `review` result nobody has signed off yet: the procedure may start, but a physician should look first."""
    return screening.status == ScreeningStatus.REVIEW and screening.reviewed_at is None


# ------------------------------------------------------------------ preparation instructions
def preparation_for(screening: ScreeningRecord, language: str = "en") -> tuple[Instruction, ...]:
    """The plain-language preparation instructions for this patient and plan, in `language`."""
    request = facts.screening_request(screening)
    patient = request["patient"]
    patient_facts = PatientFacts(
        age=patient["age"],
        sex=patient["sex"],
        weight_kg=patient["weight_kg"],
        pregnant=bool(patient["pregnant"]),
        allergies=tuple(patient["allergies"]),
        medications=tuple(Medication(m["name"], m["drug_class"]) for m in patient["medications"]),
        conditions=frozenset(patient["conditions"]),
        high_bleeding_risk=patient["high_bleeding_risk"],
    )
    return build_preparation(
        patient_facts,
        parse_plan(screening.plan),
        screening.planned_procedure_date,
        facts.policy_for(screening.clinic),
        language=language,
    )
