"""Procedures JSON API at /api/v1/procedures/.

Two calculators with no stored side effect (ARCHITECTURE §8): ``POST /dose-check``
and ``POST /codes``; their bodies are typed contracts (`schemas`) and their answers typed
responses (`responses`), both published in the OpenAPI document; a body's 422 lists every
problem as the house's sentences, after the caller's role was checked. And the procedure note:
``/patients/{patient}/notes`` — list, create a draft, read, autosave (``PUT`` with
the version read; 409 when someone saved first), sign, amend, discard. Notes are
nested under the patient so a record's existence never leaks across patients or
clinics (404), and every read and change is audited by the services.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import model_validator

from triggerpoint.accounts.policy import require, scope_to_user
from triggerpoint.assessment.visit_reads import visit_of_patient
from triggerpoint.audit import services as audit
from triggerpoint.core.contract_body import object_contract_body
from triggerpoint.core.plausible import ScheduledDate
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user
from triggerpoint.procedures import amendments, coding, dosing, drafting, note_reads, signing
from triggerpoint.procedures.models import Procedure
from triggerpoint.procedures.note_schema import NoteSaveIn
from triggerpoint.procedures.responses import CodesOut, DoseCheckOut
from triggerpoint.procedures.schemas import CodesIn, DoseCheckIn
from triggerpoint.screening.selectors import consent_of_patient, screening_of_patient

router = Router(tags=["procedures"])


DOSE_CHECK_EXAMPLE = {
    "weight_kg": 70,
    "injectates": [
        {"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 6},
        {"drug": "bupivacaine", "concentration_percent": 0.25, "volume_ml": 4},
    ],
}
CODES_EXAMPLE = {
    "sites": [
        {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 3},
        {"muscle": "upper_trapezius", "side": "right", "technique": "injection"},
        {"muscle": "levator_scapulae", "side": "left", "technique": "injection"},
    ],
    "guidance": "landmark",
    "injectates": [{"drug": "triamcinolone", "dose_mg": 20}],
    "payer": "medicare",
}


def _json_body(example: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"example": example}}}}


# The role is checked before the body is read (a caller refused anyway gets 403, not the body's problems);
# a JSON value that is not an object gets the house's dict answer, as screening's calculator does.
DOSE_CHECK_BODY = object_contract_body(
    ..., example=DOSE_CHECK_EXAMPLE, before=lambda request: require(request.auth, "rules.evaluate")
)
CODES_BODY = object_contract_body(..., example=CODES_EXAMPLE, before=lambda request: require(request.auth, "rules.codes"))


class ProblemsOut(Schema):
    detail: list[str] | str


@router.post(
    "/dose-check",
    response={200: DoseCheckOut, 422: ProblemsOut},
    url_name="procedures_dose_check",
    exclude_unset=True,  # the exposure fields and a finding's `data` stay absent when the result leaves them out
)
def dose_check(request, payload: DoseCheckIn = DOSE_CHECK_BODY):
    """Total mg per drug, each drug's maximum (min(mg/kg × weight, cap)) and the combined local-anaesthetic fraction."""
    require(request.auth, "rules.evaluate")
    return dosing.check_doses(payload.to_input()).as_dict()


@router.post(
    "/codes",
    response={200: CodesOut, 422: ProblemsOut},
    url_name="procedures_codes",
    exclude_unset=True,  # a warning's `data` stays absent when the finding has none
)
def codes(request, payload: CodesIn = CODES_BODY):
    """CPT lines (20552/20553, 20560/20561, +76942), HCPCS drug lines with units, and warnings with their basis."""
    require(request.auth, "rules.codes")
    return coding.code_session(payload.to_input()).as_dict()


# ---------------------------------------------------------------------------------------------
# Procedure notes


class NoteSummaryOut(Schema):
    id: UUID
    procedure_date: date
    status: str
    version: int
    performed_by: str
    signed_at: str | None
    sites: int


class CreateNoteIn(Schema):
    procedure_date: ScheduledDate | None = None
    guidance: Literal["landmark", "ultrasound"] | None = Field(
        None, description="Default: the linked screening's planned guidance, else landmark."
    )
    screening_id: UUID | None = None
    consent_id: UUID | None = None
    assessment_id: UUID | None = None

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # Every field is optional, so a JSON array or string would otherwise read as "all defaults".
        if not isinstance(value, dict) and not hasattr(value, "_obj"):
            raise ValueError("the request body must be a JSON object")
        if hasattr(value, "_obj") and not isinstance(value._obj, dict):
            raise ValueError("the request body must be a JSON object")
        return value


class SignIn(Schema):
    version: int = Field(..., ge=1, description="The version you read; a stale version is refused with 409.")
    dose_override_reason: str = ""
    screening_override_reason: str = ""
    repeat_override_reason: str = Field(
        "", description="Physician's reason to sign a session the payer's repeat interval or 12-month count advises against."
    )


class AmendIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)
    text: str = Field(..., min_length=1, max_length=10000)


def _procedure_for(user, patient_id: UUID, procedure_id: UUID, action: str) -> Procedure:
    patient = get_patient_for_user(user, patient_id, action)
    procedure = Procedure.objects.select_related("patient", "clinic").filter(
        public_id=procedure_id, patient_id__in=chart_ids(patient)
    ).first()
    if procedure is None:
        raise Http404("No such procedure note.")
    require(user, action, procedure)
    return procedure


def _may_edit_note(request) -> None:
    """The note's door check (404 / 403, refusals audited with the patient) before its body is read.

    The handler checks again; this only moves the refusal ahead of the body's 422. A malformed id
    is left to the path's own 422.
    """
    ids = request.resolver_match.kwargs
    try:
        patient_id, procedure_id = UUID(str(ids["patient_id"])), UUID(str(ids["procedure_id"]))
    except (KeyError, ValueError):
        return
    _procedure_for(request.auth, patient_id, procedure_id, "procedure.edit")


NOTE_BODY = object_contract_body(..., before=_may_edit_note)


def _summary(procedure: Procedure) -> dict[str, Any]:
    return {
        "id": procedure.public_id,
        "procedure_date": procedure.procedure_date,
        "status": procedure.status,
        "version": procedure.version,
        "performed_by": procedure.performed_by.get_full_name() or procedure.performed_by.username,
        "signed_at": procedure.signed_at.isoformat() if procedure.signed_at else None,
        "sites": procedure.sites.count(),
    }


def _detail(procedure: Procedure) -> dict[str, Any]:
    checks = note_reads.checks_for(procedure) if not procedure.is_signed else None
    signer = procedure.signed_by
    return {
        "id": str(procedure.public_id),
        "patient": str(procedure.patient.public_id),
        "status": procedure.status,
        "version": procedure.version,
        "performed_by": procedure.performed_by.username,
        "signed_by": signer.username if signer else None,
        "signed_at": procedure.signed_at.isoformat() if procedure.signed_at else None,
        "screening": str(procedure.screening.public_id) if procedure.screening_id else None,
        "consent": str(procedure.consent.public_id) if procedure.consent_id else None,
        "assessment": str(procedure.assessment.public_id) if procedure.assessment_id else None,
        "note": note_reads.note_document(procedure),
        # The draft's fields still as prefilled from the plan, with their source (procedures.prefill).
        "prefilled_from": procedure.prefilled_from,
        # A signed note shows what the software said at the time; a draft shows a live run.
        "dose_check": procedure.dose_check if procedure.is_signed else checks.as_dict()["dose_check"],
        "codes": procedure.codes if procedure.is_signed else checks.as_dict()["codes"],
        "missing": []
        if procedure.is_signed
        else list(checks.dose_missing) + list(checks.codes_problems) + list(checks.diagnosis_problems),
        "dose_override_reason": procedure.dose_override_reason,
        "screening_override_reason": procedure.screening_override_reason,
        "repeat_override_reason": procedure.repeat_override_reason,
        "amendments": [
            {
                "id": str(a.public_id),
                "author": a.author.username,
                "at": a.created_at.isoformat(),
                "reason": a.reason,
                "text": a.text,
            }
            for a in procedure.amendments.select_related("author")
        ],
    }


@router.get("/patients/{patient_id}/notes", response=list[NoteSummaryOut], url_name="procedures_list_notes")
def list_notes(request, patient_id: UUID):
    patient = get_patient_for_user(request.auth, patient_id, "procedure.view")
    notes = scope_to_user(Procedure.objects.filter(patient_id__in=chart_ids(patient)), request.auth, "procedure.view")
    notes = list(notes.select_related("performed_by"))
    audit.record("procedures.procedure.listed", patient=patient, details={"count": len(notes), "channel": "api"})
    return [_summary(p) for p in notes]


@router.post("/patients/{patient_id}/notes", response={201: dict, 422: ProblemsOut}, url_name="procedures_create_note")
def create_note(request, patient_id: UUID, payload: CreateNoteIn):
    patient = get_patient_for_user(request.auth, patient_id, "procedure.edit")
    links: dict[str, Any] = {}

    problems = []
    for name, lookup, value in (
        ("screening", screening_of_patient, payload.screening_id),
        ("consent", consent_of_patient, payload.consent_id),
        ("assessment", visit_of_patient, payload.assessment_id),
    ):
        if value is not None:
            linked = lookup(patient, value)
            if linked is None:
                problems.append(f"{name}_id: no such {name} for this patient")
            links[name] = linked
    if problems:
        raise RuleInputError(problems)
    procedure = drafting.create_draft(
        request.auth, patient, procedure_date=payload.procedure_date, guidance=payload.guidance, **links
    )
    return Status(201, _detail(procedure))


@router.get("/patients/{patient_id}/notes/{procedure_id}", response=dict, url_name="procedures_read_note")
def read_note(request, patient_id: UUID, procedure_id: UUID):
    procedure = _procedure_for(request.auth, patient_id, procedure_id, "procedure.view")
    note_reads.view_procedure(request.auth, procedure, channel="api")
    return _detail(procedure)


@router.put(
    "/patients/{patient_id}/notes/{procedure_id}",
    response={200: dict, 409: ProblemsOut, 422: ProblemsOut},
    url_name="procedures_save_note",
)
def save_note(request, patient_id: UUID, procedure_id: UUID, payload: NoteSaveIn = NOTE_BODY):
    """Autosave: the whole note document with the `version` you read. 409 if someone saved since."""
    procedure = _procedure_for(request.auth, patient_id, procedure_id, "procedure.edit")
    procedure = drafting.autosave_draft(request.auth, procedure, payload.version, payload)
    return _detail(procedure)


@router.post(
    "/patients/{patient_id}/notes/{procedure_id}/sign",
    response={200: dict, 409: ProblemsOut, 422: ProblemsOut},
    url_name="procedures_sign_note",
)
def sign_note(request, patient_id: UUID, procedure_id: UUID, payload: SignIn):
    procedure = _procedure_for(request.auth, patient_id, procedure_id, "procedure.sign")
    procedure = signing.sign_procedure(
        request.auth,
        procedure,
        payload.version,
        dose_override_reason=payload.dose_override_reason,
        screening_override_reason=payload.screening_override_reason,
        repeat_override_reason=payload.repeat_override_reason,
    )
    return _detail(procedure)


@router.post(
    "/patients/{patient_id}/notes/{procedure_id}/amendments",
    response={201: dict, 422: ProblemsOut},
    url_name="procedures_amend_note",
)
def amend_note(request, patient_id: UUID, procedure_id: UUID, payload: AmendIn):
    procedure = _procedure_for(request.auth, patient_id, procedure_id, "procedure.amend")
    amendments.amend_procedure(request.auth, procedure, reason=payload.reason, text=payload.text)
    return Status(201, _detail(procedure))


@router.delete(
    "/patients/{patient_id}/notes/{procedure_id}",
    response={204: None, 409: ProblemsOut},
    url_name="procedures_discard_note",
)
def discard_note(request, patient_id: UUID, procedure_id: UUID, version: int):
    """Discard a draft (soft delete). A signed note is never deleted (409)."""
    procedure = _procedure_for(request.auth, patient_id, procedure_id, "procedure.edit")
    drafting.discard_draft(request.auth, procedure, version)
    return HttpResponse(status=204)
