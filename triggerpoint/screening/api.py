"""Screening API: the pure `evaluate` calculator and the screening and consent records.

`POST /evaluate` is the ARCHITECTURE §8 contract: it runs the rules on the facts sent and
stores nothing. Record endpoints sit under the patient, go through the access policy and
write audit events through the services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core.contract_body import object_contract_body
from triggerpoint.core.plausible import ScheduledDate
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user
from triggerpoint.screening import consent_records, questionnaire_link, services
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.screening.rules import evaluate as evaluate_rules
from triggerpoint.screening.schemas import ScreeningRequestIn

router = Router(tags=["screening"])


class FindingOut(Schema):
    rule: str
    version: int
    severity: str
    message: str
    basis: str
    data: dict[str, Any] | None = None


class EvaluationOut(Schema):
    status: str
    findings: list[FindingOut]


class ScreeningOut(Schema):
    id: UUID
    patient: UUID
    planned_procedure_date: date
    plan: dict[str, Any]
    answers: dict[str, Any]
    answers_source: str
    answers_submitted_at: datetime | None
    status: str
    findings: list[dict[str, Any]]
    missing_facts: list[dict[str, Any]]
    evaluated_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    overridden_by: str | None
    overridden_at: datetime | None
    override_reason: str
    allows_procedure: bool
    version: int


class ScreeningIn(Schema):
    planned_procedure_date: ScheduledDate
    plan: dict[str, Any] = Field(..., description="{sites: [{muscle, side}], injectates: [{drug}], guidance}")


class AnswersIn(Schema):
    version: int = Field(..., ge=1)
    answers: dict[str, Any]


class VersionIn(Schema):
    version: int = Field(..., ge=1)


class ReviewIn(VersionIn):
    note: str = ""


class OverrideIn(VersionIn):
    reason: str


class SendLinkIn(Schema):
    channel: str = Field("email", pattern="^(email|sms)$")


class SendLinkOut(Schema):
    notification_id: int
    channel: str
    to: str


class ConsentOut(Schema):
    id: UUID
    screening: UUID
    document: dict[str, Any]
    document_text: str
    document_version: str
    signed: bool
    signer_name: str
    signer_relationship: str
    signature_kind: str
    signed_at: datetime | None
    witness_name: str
    version: int


class ConsentSignIn(VersionIn):
    signer_name: str
    signature_kind: str = Field(..., pattern="^(drawn|checkbox)$")
    signature_image: str = ""
    acknowledged: bool = False
    witness_name: str = ""
    signer_relationship: str = "self"


def _user_label(user) -> str | None:
    return None if user is None else (user.get_full_name() or user.username)


def _screening_out(screening: ScreeningRecord) -> dict[str, Any]:
    return {
        "id": screening.public_id,
        "patient": screening.patient.public_id,
        "planned_procedure_date": screening.planned_procedure_date,
        "plan": screening.plan,
        "answers": screening.answers,
        "answers_source": screening.answers_source,
        "answers_submitted_at": screening.answers_submitted_at,
        "status": screening.status,
        "findings": screening.findings,
        "missing_facts": screening.missing_facts,
        "evaluated_at": screening.evaluated_at,
        "reviewed_by": _user_label(screening.reviewed_by),
        "reviewed_at": screening.reviewed_at,
        "review_note": screening.review_note,
        "overridden_by": _user_label(screening.overridden_by),
        "overridden_at": screening.overridden_at,
        "override_reason": screening.override_reason,
        "allows_procedure": services.screening_allows_procedure(screening),
        "version": screening.version,
    }


def _consent_out(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.public_id,
        "screening": consent.screening.public_id,
        "document": consent.document,
        "document_text": consent.document_text,
        "document_version": consent.document_version,
        "signed": consent.is_signed,
        "signer_name": consent.signer_name,
        "signer_relationship": consent.signer_relationship,
        "signature_kind": consent.signature_kind,
        "signed_at": consent.signed_at,
        "witness_name": consent.witness_name,
        "version": consent.version,
    }


def _screening(user, patient_id: UUID, screening_id: UUID, action: str) -> ScreeningRecord:
    patient = get_patient_for_user(user, patient_id, action)
    screening = get_object_or_404(ScreeningRecord, public_id=screening_id, patient_id__in=chart_ids(patient))
    require(user, action, screening)
    return screening


def _state(exc: services.ScreeningStateError):
    return HttpError(409, str(exc))


# ------------------------------------------------------------------ the pure calculator
EVALUATE_BODY = object_contract_body(..., before=lambda request: require(request.auth, "rules.evaluate"))


@router.post("/evaluate", response=EvaluationOut)
def screening_evaluate(request, payload: ScreeningRequestIn = EVALUATE_BODY):
    """Evaluate the screening rules on the facts sent (ARCHITECTURE §8). Stores nothing.

    Missing facts, and unknown drugs, muscles or units, are a 422 listing every problem
    with the allowed values.

    Issue 14 added facts (field names of the original contract unchanged): required
    ``patient.allergy_status`` (``unknown`` | ``nkda`` | ``has_allergies``; ``unknown`` is a
    review, never ready); optional ``patient.breastfeeding`` (bool), ``patient.inr``
    ({``value``, ``date``}), ``plan.injectates[].with_epinephrine`` (bool) and ``.vial``
    (``single_dose`` | ``multi_dose``), ``history.last_botulinum_toxin_date`` (YYYY-MM-DD);
    ``patient.conditions`` also accepts myasthenia_gravis, lambert_eaton, als,
    kidney_impairment, heart_block, smoker and the red flags suspected_malignancy,
    new_neurological_deficit, recent_trauma_at_site, recent_surgery_at_site, fracture.
    """
    require(request.auth, "rules.evaluate")
    return evaluate_rules(payload.to_input()).as_dict()


# ------------------------------------------------------------------ screening records
@router.get("/patients/{patient_id}/screenings", response=list[ScreeningOut])
def list_screenings(request, patient_id: UUID):
    patient = get_patient_for_user(request.auth, patient_id, "screening.view")
    screenings = list(ScreeningRecord.objects.filter(patient_id__in=chart_ids(patient)).select_related("patient", "reviewed_by", "overridden_by"))
    audit.record("screening.screening.listed", patient=patient, details={"channel": "api", "listed": len(screenings)})
    return [_screening_out(s) for s in screenings]


@router.post("/patients/{patient_id}/screenings", response={201: ScreeningOut})
def create_screening(request, patient_id: UUID, payload: ScreeningIn):
    patient = get_patient_for_user(request.auth, patient_id, "screening.edit")
    screening = services.create_screening(request.auth, patient, payload.planned_procedure_date, payload.plan)
    return Status(201, _screening_out(screening))


@router.get("/patients/{patient_id}/screenings/{screening_id}", response=ScreeningOut)
def read_screening(request, patient_id: UUID, screening_id: UUID):
    screening = _screening(request.auth, patient_id, screening_id, "screening.view")
    services.view_screening(request.auth, screening, channel="api")
    return _screening_out(screening)


@router.put("/patients/{patient_id}/screenings/{screening_id}/answers", response=ScreeningOut)
def record_answers(request, patient_id: UUID, screening_id: UUID, payload: AnswersIn):
    """Record (part of) the questionnaire as staff; the screening is evaluated again."""
    screening = _screening(request.auth, patient_id, screening_id, "screening.edit")
    screening = services.record_answers(
        screening, payload.answers, source="staff", user=request.auth, expected_version=payload.version
    )
    return _screening_out(screening)


@router.post("/patients/{patient_id}/screenings/{screening_id}/evaluate", response=ScreeningOut)
def evaluate_screening(request, patient_id: UUID, screening_id: UUID):
    screening = _screening(request.auth, patient_id, screening_id, "screening.edit")
    return _screening_out(services.evaluate_screening(screening))


@router.post("/patients/{patient_id}/screenings/{screening_id}/review", response=ScreeningOut)
def review_screening(request, patient_id: UUID, screening_id: UUID, payload: ReviewIn):
    screening = _screening(request.auth, patient_id, screening_id, "screening.review")
    try:
        screening = services.review_screening(request.auth, screening, note=payload.note, expected_version=payload.version)
    except services.ScreeningStateError as exc:
        raise _state(exc) from exc
    return _screening_out(screening)


@router.post("/patients/{patient_id}/screenings/{screening_id}/override", response=ScreeningOut)
def override_screening(request, patient_id: UUID, screening_id: UUID, payload: OverrideIn):
    screening = _screening(request.auth, patient_id, screening_id, "screening.override")
    try:
        screening = services.override_screening(
            request.auth, screening, reason=payload.reason, expected_version=payload.version
        )
    except services.ScreeningStateError as exc:
        if len(payload.reason.strip()) < services.OVERRIDE_REASON_MIN_LENGTH:
            raise HttpError(422, str(exc)) from exc
        raise _state(exc) from exc
    return _screening_out(screening)


@router.post("/patients/{patient_id}/screenings/{screening_id}/send-link", response={202: SendLinkOut})
def send_questionnaire_link(request, patient_id: UUID, screening_id: UUID, payload: SendLinkIn):
    screening = _screening(request.auth, patient_id, screening_id, "screening.send_link")
    try:
        note = questionnaire_link.send_questionnaire_link(request.auth, screening, channel=payload.channel)
    except services.ScreeningStateError as exc:
        raise HttpError(422, str(exc)) from exc
    return Status(202, {"notification_id": note.pk, "channel": note.channel, "to": note.to})


# ------------------------------------------------------------------ consent
@router.post("/patients/{patient_id}/screenings/{screening_id}/consents", response={201: ConsentOut})
def generate_consent(request, patient_id: UUID, screening_id: UUID):
    screening = _screening(request.auth, patient_id, screening_id, "consent.sign")
    return Status(201, _consent_out(consent_records.generate_consent(request.auth, screening)))


@router.get("/patients/{patient_id}/screenings/{screening_id}/consents/{consent_id}", response=ConsentOut)
def read_consent(request, patient_id: UUID, screening_id: UUID, consent_id: UUID):
    screening = _screening(request.auth, patient_id, screening_id, "consent.view")
    consent = get_object_or_404(Consent, public_id=consent_id, screening=screening)
    require(request.auth, "consent.view", consent)
    consent_records.view_consent(request.auth, consent, channel="api")
    return _consent_out(consent)


@router.post("/patients/{patient_id}/screenings/{screening_id}/consents/{consent_id}/sign", response=ConsentOut)
def sign_consent(request, patient_id: UUID, screening_id: UUID, consent_id: UUID, payload: ConsentSignIn):
    screening = _screening(request.auth, patient_id, screening_id, "consent.sign")
    consent = get_object_or_404(Consent, public_id=consent_id, screening=screening)
    consent = consent_records.sign_consent(
        request.auth,
        consent,
        signer_name=payload.signer_name,
        signature_kind=payload.signature_kind,
        signature_image=payload.signature_image,
        acknowledged=payload.acknowledged,
        witness_name=payload.witness_name,
        signer_relationship=payload.signer_relationship,
        expected_version=payload.version,
    )
    return _consent_out(consent)
