"""Named state changes of the assessment visit; each is one transaction with its audit event.

Views, the API and the demo call these; nothing else writes visit rows. A draft is
saved with an optimistic version check; a physician signs it; after that the rows
never change and every correction is a `VisitAmendment` holding the reason and the
before/after values, so the chart can show both what was signed and what is current.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment.diagnoses import validate_code
from triggerpoint.assessment.fibromyalgia import load_wpi_map
from triggerpoint.assessment.models import ExamFinding, Visit, VisitAmendment, VisitDiagnosis, VisitStatus
from triggerpoint.assessment.options import load_history_options
from triggerpoint.assessment.schemas import parse_exam_finding
from triggerpoint.assessment.visit_input import (
    DERIVED_FIELDS,
    EDITABLE_FIELDS,
    SCORE_FIELDS,
    SigningCheck,
    VisitCatalogues,
    VisitContext,
    as_json,
    parse_visit_changes,
    signing_problems,
)
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.rules import RuleInputError

EXAM_INPUT_FIELDS = (
    "muscle",
    "side",
    *exam_rules.BOOLEAN_FINDINGS,
    "referred_pain_zones",
    "pressure_pain_threshold_kg_cm2",
)
STORED_FIELDS = EDITABLE_FIELDS + DERIVED_FIELDS


@functools.lru_cache(maxsize=1)
def catalogues() -> VisitCatalogues:
    """The atlas, pick-lists, drug ids and WPI map the visit checks against (all immutable, cached)."""
    from triggerpoint.atlas.catalog import load_atlas
    from triggerpoint.catalogues.drugs import load_drugs

    atlas = load_atlas()
    return VisitCatalogues(
        zone_ids=frozenset(atlas.zones),
        muscle_ids=frozenset(atlas.muscles),
        options=load_history_options(),
        drug_ids=frozenset(load_drugs().ids),
        wpi_map=load_wpi_map(),
    )


def _atlas():
    from triggerpoint.atlas.catalog import load_atlas

    return load_atlas()


def _refuse_if_signed(visit: Visit) -> None:
    if Visit.all_objects.filter(pk=visit.pk, status=VisitStatus.SIGNED).exists():
        raise ImmutableRecord("This visit is signed; record an amendment instead.")


def _examined_sites(visit: Visit) -> dict[tuple[str, str], str]:
    return {(f.muscle, f.side): f.classification for f in visit.exam_findings.all()}


def _context(visit: Visit) -> VisitContext:
    return VisitContext(
        visit_date=visit.visit_date,
        examined_sites=_examined_sites(visit),
        current_scores={name: getattr(visit, name) for name in SCORE_FIELDS},
    )


# --------------------------------------------------------------------------- reading


def view_visit(user, visit: Visit, *, channel: str = "ui", what: str = "visit") -> Visit:
    """Record one read of a visit (page, summary, PDF or API)."""
    require(user, "assessment.view", visit)
    audit.record("assessment.visit.viewed", obj=visit, details={"channel": channel, "what": what})
    return visit


def finding_dict(finding: ExamFinding) -> dict[str, Any]:
    atlas = _atlas()
    name = atlas.muscles[finding.muscle].name if atlas.has_muscle(finding.muscle) else finding.muscle
    return {
        "id": str(finding.public_id),
        "muscle": finding.muscle,
        "muscle_name": name,
        "side": finding.side,
        **{flag: getattr(finding, flag) for flag in exam_rules.BOOLEAN_FINDINGS},
        "referred_pain_zones": list(finding.referred_zones),
        "pressure_pain_threshold_kg_cm2": (
            float(finding.pressure_pain_threshold_kg_cm2) if finding.pressure_pain_threshold_kg_cm2 is not None else None
        ),
        "notes": finding.notes,
        "classification": finding.classification,
        "meets_lcd_documentation": finding.meets_lcd_documentation,
        "rule_id": finding.rule_id,
        "rule_version": finding.rule_version,
        "basis": finding.basis,
    }


def diagnosis_dict(diagnosis: VisitDiagnosis) -> dict[str, Any]:
    return {
        "id": str(diagnosis.public_id),
        "code": diagnosis.code,
        "description": diagnosis.description,
        "is_primary": diagnosis.is_primary,
    }


def snapshot(visit: Visit) -> dict[str, Any]:
    """The visit as stored (what was signed), as JSON-ready values."""
    data = {name: as_json(getattr(visit, name)) for name in STORED_FIELDS}
    data["exam_findings"] = [finding_dict(f) for f in visit.exam_findings.all()]
    data["diagnoses"] = [diagnosis_dict(d) for d in visit.diagnoses.all()]
    return data


def current_record(visit: Visit) -> dict[str, Any]:
    """The visit as it stands now: what was signed with every amendment applied in order.

    `amended_fields` names the keys an amendment changed, so displays can mark them.
    """
    data = snapshot(visit)
    amended: set[str] = set()
    for amendment in visit.amendments.all():
        for key, change in amendment.changes.items():
            data[key] = change["after"]
            amended.add(key)
    data["amended_fields"] = sorted(amended)
    return data


def content_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 of the signed content, kept in the audit trail to show it never changed."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- drafting


@transaction.atomic
def create_visit(user, patient, *, visit_date: date | None = None, chief_complaint: str = "") -> Visit:
    """Open a draft assessment visit for `patient`, with `user` as the clinician."""
    require(user, "assessment.edit", patient)
    visit = Visit(
        clinic=patient.clinic,
        patient=patient,
        clinician=user,
        visit_date=visit_date or timezone.localdate(),
        chief_complaint=(chief_complaint or "").strip()[:300],
    )
    visit.save()
    audit.record("assessment.visit.created", obj=visit, details={"visit_date": visit.visit_date.isoformat()})
    return visit


@transaction.atomic
def save_visit_draft(user, visit: Visit, expected_version: int, changes: Mapping[str, Any]) -> Visit:
    """Apply `changes` (visit fields) to a draft if nobody saved it since `expected_version`.

    Raises RuleInputError listing every problem, StaleVersion on a concurrent save,
    ImmutableRecord once the visit is signed.
    """
    require(user, "assessment.edit", visit)
    _refuse_if_signed(visit)
    clean = parse_visit_changes(changes, _context(visit), catalogues())
    changed = [name for name, value in clean.items() if getattr(visit, name) != value]
    if not changed:
        return visit
    for name in changed:
        setattr(visit, name, clean[name])
    visit.save_versioned(expected_version, fields=changed)
    audit.record(
        "assessment.visit.draft_saved",
        obj=visit,
        details={"fields": sorted(changed), "version": visit.version},
    )
    return visit


def _exam_input(data: Mapping[str, Any]) -> tuple[exam_rules.ExamFinding, str]:
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
    _refuse_if_signed(visit)
    finding_input, notes = _exam_input(data)
    result = exam_rules.classify_trigger_point(finding_input, atlas=_atlas())
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
def remove_exam_finding(user, finding: ExamFinding) -> None:
    """Withdraw a draft finding; a planned injection at that site is withdrawn with it."""
    visit = finding.visit
    require(user, "assessment.edit", visit)
    _refuse_if_signed(visit)
    finding.soft_delete()
    kept = [s for s in visit.planned_sites if (s["muscle"], s["side"]) != (finding.muscle, finding.side)]
    if kept != visit.planned_sites:
        visit.planned_sites = kept
        visit.save_versioned(visit.version, fields=["planned_sites"])
    audit.record(
        "assessment.exam_finding.removed",
        obj=finding,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "muscle": finding.muscle, "side": finding.side},
    )


@transaction.atomic
def add_diagnosis(user, visit: Visit, code: str, *, primary: bool | None = None) -> VisitDiagnosis:
    """Add an ICD-10-CM code after checking it is billable on the visit date.

    The first diagnosis of a visit is primary unless told otherwise; making a new one
    primary demotes the previous primary.
    """
    require(user, "assessment.edit", visit)
    _refuse_if_signed(visit)
    entry = validate_code(code, visit.visit_date)
    if visit.diagnoses.filter(code=entry.code).exists():
        raise RuleInputError(f"{entry.code} is already on this visit")
    existing = visit.diagnoses.exists()
    is_primary = (not existing) if primary is None else bool(primary)
    if is_primary:
        for other in visit.diagnoses.filter(is_primary=True):
            other.is_primary = False
            other.save()
    diagnosis = VisitDiagnosis(
        clinic=visit.clinic, visit=visit, code=entry.code, description=entry.description, is_primary=is_primary
    )
    try:
        with transaction.atomic():
            diagnosis.save()
    except IntegrityError as exc:  # the same code added at the same moment from another screen
        raise RuleInputError(f"{entry.code} is already on this visit") from exc
    audit.record(
        "assessment.diagnosis.added",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": entry.code, "primary": is_primary},
    )
    return diagnosis


@transaction.atomic
def set_primary_diagnosis(user, diagnosis: VisitDiagnosis) -> VisitDiagnosis:
    visit = diagnosis.visit
    require(user, "assessment.edit", visit)
    _refuse_if_signed(visit)
    for other in visit.diagnoses.filter(is_primary=True).exclude(pk=diagnosis.pk):
        other.is_primary = False
        other.save()
    diagnosis.is_primary = True
    diagnosis.save()
    audit.record(
        "assessment.diagnosis.made_primary",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": diagnosis.code},
    )
    return diagnosis


@transaction.atomic
def remove_diagnosis(user, diagnosis: VisitDiagnosis) -> None:
    visit = diagnosis.visit
    require(user, "assessment.edit", visit)
    _refuse_if_signed(visit)
    diagnosis.soft_delete()
    if diagnosis.is_primary:
        successor = visit.diagnoses.order_by("created_at").first()
        if successor is not None:
            successor.is_primary = True
            successor.save()
    audit.record(
        "assessment.diagnosis.removed",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": diagnosis.code},
    )


# --------------------------------------------------------------------------- signing and amending


def signing_check(visit: Visit) -> SigningCheck:
    """What the draft still needs before signing (diagnoses re-checked against the visit date)."""
    diagnoses = list(visit.diagnoses.all())
    check = signing_problems(
        diagnosis_codes=[d.code for d in diagnoses],
        primary_count=sum(1 for d in diagnoses if d.is_primary),
        examined_sites=_examined_sites(visit),
        planned_sites=list(visit.planned_sites),
        nrs_average=visit.nrs_average,
    )
    code_problems: list[str] = []
    for diagnosis in diagnoses:
        try:
            validate_code(diagnosis.code, visit.visit_date)
        except RuleInputError as error:
            code_problems.extend(error.problems)
    if not code_problems:
        return check
    problems = check.problems + tuple(code_problems)
    return SigningCheck(ready=False, problems=problems)


@transaction.atomic
def sign_visit(user, visit: Visit, expected_version: int) -> Visit:
    """A physician signs the draft; from then on it is immutable (corrections are amendments).

    Raises RuleInputError naming what is still missing, StaleVersion if the draft changed
    since `expected_version`, ImmutableRecord if it is already signed.
    """
    require(user, "assessment.sign", visit)
    _refuse_if_signed(visit)
    check = signing_check(visit)
    if not check.ready:
        raise RuleInputError(list(check.problems))
    visit.status = VisitStatus.SIGNED
    visit.signed_by = user
    visit.signed_at = timezone.now()
    visit.save_versioned(expected_version, fields=["status", "signed_by", "signed_at"])
    audit.record(
        "assessment.visit.signed",
        obj=visit,
        details={"version": visit.version, "content_sha256": content_hash(snapshot(visit))},
    )
    return visit


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
            finding_input, notes = _exam_input({k: row[k] for k in (*EXAM_INPUT_FIELDS, "notes") if k in row})
        except RuleInputError as error:
            problems.extend(f"exam_findings[{index}]: {p}" for p in error.problems)
            continue
        inputs.append((finding_input, notes))
    if problems:
        raise RuleInputError(problems)
    atlas = _atlas()
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


# --------------------------------------------------------------------------- lookups


def get_visit(user, patient_public_id, visit_public_id, action: str) -> Visit:
    """The visit, if it belongs to that patient and `user` may `action` it (404 / 403 otherwise)."""
    from django.core.exceptions import ValidationError
    from django.http import Http404

    from triggerpoint.patients.selectors import get_patient_for_user

    patient = get_patient_for_user(user, patient_public_id, "patient.view_clinical" if user.clinic_id else "patient.view")
    try:
        visit = Visit.objects.select_related("patient", "clinician", "signed_by").get(
            public_id=visit_public_id, patient=patient
        )
    except (Visit.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("No such visit.") from exc
    require(user, action, visit)
    return visit


def get_child(visit: Visit, model, public_id):
    """An exam finding or diagnosis of this visit (404 for anything else)."""
    from django.core.exceptions import ValidationError
    from django.http import Http404

    try:
        return model.objects.get(public_id=public_id, visit=visit)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("No such item on this visit.") from exc


def view_patient_visits(user, patient, count: int) -> None:
    """Record one read of a patient's list of assessment visits."""
    audit.record("assessment.visit.listed", obj=patient, details={"visits": count})
