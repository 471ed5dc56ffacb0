"""`/api/v1/assessments/`: the assessment visit as JSON, with the same services, policy and audit as the pages.

Record routes are nested under the patient (`/patients/{patient_id}/visits/{visit_id}`)
so a visit is only ever reached through a patient the caller may see. Writes take
free-form JSON handed whole to the same parser the page uses, so every problem comes
back at once as a 422. A stale `version` is a 409, a signed visit refuses changes
with 409 (amend it instead), a role without the action is a 403, another clinic's
record a 404.

Pure calculators (no patient data, nothing stored): `GET /codes` searches the ICD-10-CM
table, `POST /exam/classify` runs ASM-TRP-CLASSIFY, `POST /fibromyalgia/score` runs
ASM-FM-ACR2016.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ninja import Body, Router, Status
from ninja.errors import HttpError

from triggerpoint.accounts.policy import require, scope_to_user
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment import (
    exam_findings,
    visit_amendments,
    visit_diagnoses,
    visit_drafting,
    visit_reads,
    visit_signing,
)
from triggerpoint.assessment.diagnoses import search_codes
from triggerpoint.assessment.fibromyalgia import load_wpi_map, score_acr_2016
from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis
from triggerpoint.assessment.schemas import (
    ExamClassificationOut,
    ExamFindingIn,
    FibromyalgiaIn,
    FibromyalgiaScoreOut,
)
from triggerpoint.core import plausible
from triggerpoint.core.contract_body import ContractBody
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user

router = Router(tags=["assessments"])

VISITS = "/patients/{patient_id}/visits"
VISIT = VISITS + "/{visit_id}"


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise RuleInputError("the request body must be a JSON object")
    return payload


def _summary(visit: Visit) -> dict[str, Any]:
    return {
        "id": str(visit.public_id),
        "patient": str(visit.patient.public_id),
        "visit_date": visit.visit_date.isoformat(),
        "status": visit.status,
        "version": visit.version,
        "clinician": visit.clinician.username,
        "chief_complaint": visit.chief_complaint,
        "signed_by": visit.signed_by.username if visit.signed_by_id else None,
        "signed_at": visit.signed_at.isoformat() if visit.signed_at else None,
    }


def _detail(visit: Visit) -> dict[str, Any]:
    visit = Visit.objects.select_related("patient", "clinician", "signed_by").get(pk=visit.pk)
    amendments = list(visit.amendments.select_related("author"))
    data = _summary(visit)
    data["record"] = visit_reads.current_record(visit)
    data["signed_record"] = visit_reads.snapshot(visit) if amendments else None
    data["amendments"] = [
        {
            "id": str(a.public_id),
            "reason": a.reason,
            "author": a.author.username,
            "amended_at": a.amended_at.isoformat(),
            "changes": a.changes,
        }
        for a in amendments
    ]
    data["signing_problems"] = [] if visit.is_signed else list(visit_signing.signing_check(visit).problems)
    return data


def _version(payload: dict[str, Any]) -> int:
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RuleInputError("version is required: the version you read (a stale version is refused with 409)")
    return version


# --------------------------------------------------------------------------- visits


@router.get(VISITS, url_name="assessment_visits", summary="List a patient's assessment visits")
def assessment_visits(request, patient_id: UUID):
    patient = get_patient_for_user(request.auth, patient_id, "patient.view")
    require(request.auth, "assessment.view", patient)
    visits = scope_to_user(Visit.objects.filter(patient_id__in=chart_ids(patient)), request.auth, "assessment.view")
    rows = [_summary(v) for v in visits.select_related("patient", "clinician", "signed_by")]
    visit_reads.view_patient_visits(request.auth, patient, len(rows))
    return rows


@router.post(VISITS, response={201: dict}, url_name="assessment_visits", summary="Open a draft assessment visit")
def create_assessment_visit(request, patient_id: UUID, payload: Body[dict]):
    """Body: `{}` or `{"visit_date": "YYYY-MM-DD", "chief_complaint": "..."}`."""
    patient = get_patient_for_user(request.auth, patient_id, "patient.view")
    payload = _object(payload)
    unknown = sorted(set(payload) - {"visit_date", "chief_complaint"})
    problems = [f"unknown field(s): {', '.join(unknown)}; allowed: visit_date, chief_complaint"] if unknown else []
    visit_date = None
    if payload.get("visit_date") is not None:
        try:
            visit_date = date.fromisoformat(str(payload["visit_date"]))
        except ValueError:
            problems.append(f"visit_date must be a date (YYYY-MM-DD), not {payload['visit_date']!r}")
        plausible.check("scheduled", visit_date, "visit_date", problems)
    complaint = payload.get("chief_complaint", "")
    if not isinstance(complaint, str):
        problems.append("chief_complaint must be text")
    if problems:
        raise RuleInputError(problems)
    visit = visit_drafting.create_visit(request.auth, patient, visit_date=visit_date, chief_complaint=complaint)
    return Status(201, _detail(visit))


@router.get(VISIT, url_name="assessment_visit", summary="Read a visit (current values, signed values, amendments)")
def assessment_visit(request, patient_id: UUID, visit_id: UUID):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.view")
    visit_reads.view_visit(request.auth, visit, channel="api")
    return _detail(visit)


@router.patch(VISIT, url_name="assessment_visit", summary="Save draft fields (with the version you read)")
def update_assessment_visit(request, patient_id: UUID, visit_id: UUID, payload: Body[dict]):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.edit")
    payload = dict(_object(payload))
    version = _version(payload)
    payload.pop("version")
    if not payload:
        raise HttpError(422, "Nothing to change: send at least one field besides version.")
    visit = visit_drafting.save_visit_draft(request.auth, visit, version, payload)
    return _detail(visit)


@router.post(VISIT + "/sign", url_name="assessment_sign", summary="Sign the visit (physician)")
def sign_assessment_visit(request, patient_id: UUID, visit_id: UUID, payload: Body[dict]):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.sign")
    visit = visit_signing.sign_visit(request.auth, visit, _version(_object(payload)))
    return _detail(visit)


@router.post(VISIT + "/amendments", response={201: dict}, url_name="assessment_amend", summary="Amend a signed visit (physician)")
def amend_assessment_visit(request, patient_id: UUID, visit_id: UUID, payload: Body[dict]):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.amend")
    payload = _object(payload)
    unknown = sorted(set(payload) - {"reason", "changes"})
    if unknown:
        raise RuleInputError(f"unknown field(s): {', '.join(unknown)}; allowed: reason, changes")
    amendment = visit_amendments.amend_visit(request.auth, visit, payload.get("reason", ""), payload.get("changes") or {})
    body = _detail(visit)
    body["amendment"] = str(amendment.public_id)
    return Status(201, body)


# --------------------------------------------------------------------------- exam and diagnoses


@router.post(VISIT + "/exam-findings", response={201: dict}, url_name="assessment_exam_findings", summary="Record one muscle-side exam finding")
def record_assessment_exam_finding(request, patient_id: UUID, visit_id: UUID, payload: Body[dict]):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.edit")
    finding = exam_findings.record_exam_finding(request.auth, visit, _object(payload))
    return Status(201, visit_reads.finding_dict(finding))


@router.delete(
    VISIT + "/exam-findings/{finding_id}", response={204: None}, url_name="assessment_exam_finding", summary="Withdraw a draft exam finding"
)
def remove_assessment_exam_finding(request, patient_id: UUID, visit_id: UUID, finding_id: UUID):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.edit")
    exam_findings.remove_exam_finding(request.auth, visit_reads.get_child(visit, ExamFinding, finding_id))
    return Status(204, None)


@router.post(VISIT + "/diagnoses", response={201: dict}, url_name="assessment_diagnoses", summary="Add an ICD-10-CM diagnosis (validated)")
def add_assessment_diagnosis(request, patient_id: UUID, visit_id: UUID, payload: Body[dict]):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.edit")
    payload = _object(payload)
    code = payload.get("code")
    primary = payload.get("primary")
    problems = []
    if not isinstance(code, str) or not code.strip():
        problems.append("code is required (an ICD-10-CM code such as M79.12)")
    if primary is not None and not isinstance(primary, bool):
        problems.append("primary must be true or false")
    if problems:
        raise RuleInputError(problems)
    diagnosis = visit_diagnoses.add_diagnosis(request.auth, visit, code, primary=primary)
    return Status(201, visit_reads.diagnosis_dict(diagnosis))


@router.delete(
    VISIT + "/diagnoses/{diagnosis_id}", response={204: None}, url_name="assessment_diagnosis", summary="Remove a draft diagnosis"
)
def remove_assessment_diagnosis(request, patient_id: UUID, visit_id: UUID, diagnosis_id: UUID):
    visit = visit_reads.get_visit(request.auth, patient_id, visit_id, "assessment.edit")
    visit_diagnoses.remove_diagnosis(request.auth, visit_reads.get_child(visit, VisitDiagnosis, diagnosis_id))
    return Status(204, None)


# --------------------------------------------------------------------------- pure calculators

EXAM_EXAMPLE = {
    "muscle": "upper_trapezius", "side": "left", "taut_band": True, "tender_spot": True, "recognised_pain": True,
    "spontaneous_pain": False, "local_twitch_response": True, "jump_sign": False, "focal_nodule": True,
    "referred_pain_zones": ["temple-l"], "pressure_pain_threshold_kg_cm2": 2.5,
}
FIBROMYALGIA_EXAMPLE = {
    "painful_areas": ["jaw_left", "shoulder_girdle_left", "upper_arm_left", "lower_back", "neck"],
    "fatigue": 2, "waking_unrefreshed": 2, "cognitive_symptoms": 1,
    "headaches": True, "lower_abdominal_pain_or_cramps": False, "depression": False, "symptom_months": 6,
}
EXAM_BODY = ContractBody(..., example=EXAM_EXAMPLE)
FIBROMYALGIA_BODY = ContractBody(..., example=FIBROMYALGIA_EXAMPLE)


@router.get("/codes", url_name="assessment_codes", summary="Search the ICD-10-CM table")
def search_icd10_codes(request, q: str, on: date | None = None, limit: int = 10):
    require(request.auth, "rules.codes")
    if not 1 <= limit <= 50:
        raise HttpError(422, "limit must be between 1 and 50")
    return [
        {
            "code": entry.code,
            "description": entry.description,
            "billable": entry.billable_on(on) if on else entry.billable,
            "parent": entry.parent,
        }
        for entry in search_codes(q, limit, on_date=on)
    ]


@router.post(
    "/exam/classify",
    response=ExamClassificationOut,
    url_name="assessment_classify",
    summary="Classify one exam finding (no side effects)",
    exclude_unset=True,  # a finding's `data` stays absent when the rule gave none
)
def classify_exam_finding(request, payload: ExamFindingIn = EXAM_BODY):
    require(request.auth, "rules.evaluate")
    result = exam_rules.classify_trigger_point(payload.to_finding())
    return {
        "muscle": result.muscle,
        "side": result.side,
        "status": result.status.value,
        "meets_lcd_documentation": result.meets_lcd_documentation,
        "supporting_findings": list(result.supporting_findings),
        "findings": [f.as_dict() for f in result.findings],
    }


@router.post(
    "/fibromyalgia/score",
    response=FibromyalgiaScoreOut,
    url_name="assessment_fibromyalgia",
    summary="Score the 2016 ACR criteria",
    exclude_unset=True,  # a finding's `data` stays absent when the rule gave none
)
def score_fibromyalgia(request, payload: FibromyalgiaIn = FIBROMYALGIA_BODY):
    require(request.auth, "rules.evaluate")
    result = score_acr_2016(payload.to_symptoms(), wpi_map=load_wpi_map())
    return {
        "wpi": result.wpi,
        "sss": result.sss,
        "fibromyalgia_severity": result.fibromyalgia_severity,
        "painful_regions": list(result.painful_regions),
        "generalised_pain": result.generalised_pain,
        "duration_met": result.duration_met,
        "criteria_met": result.criteria_met,
        "clinician_message": result.clinician_message,
        "findings": [f.as_dict() for f in result.findings],
    }
