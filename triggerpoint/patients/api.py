from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from triggerpoint.accounts.policy import can, require
from triggerpoint.core.plausible import BirthDate, RecordedDate
from triggerpoint.patients import registration, search, services
from triggerpoint.patients.models import Patient
from triggerpoint.patients.selectors import get_patient_for_user

router = Router(tags=["patients"])

SexValue = Literal["female", "male", "other", "unknown"]
LanguageValue = Literal["en", "es"]


class AllergyOut(Schema):
    substance: str
    reaction: str
    severity: str


class MedicationOut(Schema):
    name: str
    drug_class: str
    dose: str


class PatientSummary(Schema):
    id: UUID
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    version: int
    last_visit: date | None = Field(None, description="Date of the patient's latest assessment visit, to tell "
                                    "patients with one name apart (search results only).")

    @staticmethod
    def resolve_id(obj):
        return obj["id"] if isinstance(obj, dict) else obj.public_id


class PatientOut(PatientSummary):
    weight_kg: Decimal | None
    weight_measured_on: date | None
    height_cm: Decimal | None
    phone: str
    email: str
    address: str
    preferred_language: str
    payer: str = Field("", description="Payer id from the clinic's payer table (blank when not recorded).")
    payer_member_id: str = ""
    allergy_status: Literal["unknown", "nkda", "has_allergies"] | None = Field(
        None, description="unknown = never asked; nkda = asked, no known drug allergies; has_allergies = see allergies."
    )
    allergies: list[AllergyOut] | None = None
    medications: list[MedicationOut] | None = None
    risk_factors: list[str] | None = None

    # The clinical lists are filled by `_out` only for roles allowed to see them; reading
    # them from the model here would validate related rows against these types (a 500).
    @staticmethod
    def resolve_allergies(obj):
        return obj.get("allergies") if isinstance(obj, dict) else None

    @staticmethod
    def resolve_medications(obj):
        return obj.get("medications") if isinstance(obj, dict) else None

    @staticmethod
    def resolve_risk_factors(obj):
        return obj.get("risk_factors") if isinstance(obj, dict) else None


class PatientIn(Schema):
    mrn: str | None = Field(
        None, max_length=32,
        description="Leave out (or empty) to have the clinic's next MRN generated; send it only for a patient "
                    "imported from another system.",
    )
    confirm_not_duplicate: bool = Field(
        False,
        description="Without it, a likely duplicate (same date of birth and a similar name, or the same phone or "
                    "e-mail) is refused with 409 and the candidates. Send true after checking them: the "
                    "confirmation is audited and the chart is created.",
    )
    given_name: str = Field(..., min_length=1, max_length=100)
    family_name: str = Field(..., min_length=1, max_length=100)
    date_of_birth: BirthDate
    sex: SexValue = "unknown"
    weight_kg: Decimal | None = Field(None, gt=0, le=400)
    weight_measured_on: RecordedDate | None = None
    height_cm: Decimal | None = Field(None, gt=0, le=260)
    phone: str = ""
    email: str = ""
    address: str = ""
    preferred_language: LanguageValue = "en"
    payer: str = Field("", max_length=40, description="Payer id from the clinic's payer table; a new procedure "
                                                      "note takes it for its coding warnings.")
    payer_member_id: str = Field("", max_length=40)


class PatientPatch(Schema):
    version: int = Field(..., ge=1, description="The version you read; a stale version is refused with 409.")
    mrn: str | None = Field(None, min_length=1, max_length=32)
    given_name: str | None = Field(None, min_length=1, max_length=100)
    family_name: str | None = Field(None, min_length=1, max_length=100)
    date_of_birth: BirthDate | None = None
    sex: SexValue | None = None
    weight_kg: Decimal | None = Field(None, gt=0, le=400)
    weight_measured_on: RecordedDate | None = None
    height_cm: Decimal | None = Field(None, gt=0, le=260)
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    preferred_language: LanguageValue | None = None
    payer: str | None = Field(None, max_length=40)
    payer_member_id: str | None = Field(None, max_length=40)


class DuplicateCandidateOut(Schema):
    id: UUID
    reasons: list[Literal["date of birth and name", "phone", "email"]]
    mrn: str | None = Field(None, description="Only for roles that may list patients.")
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None


class LikelyDuplicateConflict(Schema):
    detail: str
    candidates: list[DuplicateCandidateOut]


def _candidate_out(user, candidate) -> dict:
    p = candidate.patient
    out = {"id": p.public_id, "reasons": candidate.reasons, "mrn": None, "given_name": None, "family_name": None,
           "date_of_birth": None}
    if can(user, "patient.list"):
        out.update(mrn=p.mrn, given_name=p.given_name, family_name=p.family_name, date_of_birth=p.date_of_birth)
    return out


def _out(user, patient: Patient) -> dict:
    data = PatientOut.from_orm(patient).dict(exclude={"allergies", "medications", "risk_factors", "allergy_status"})
    data.update(allergies=None, medications=None, risk_factors=None, allergy_status=None)
    if can(user, "patient.view_clinical", patient):
        data["allergy_status"] = patient.allergy_status
        data["allergies"] = [AllergyOut.from_orm(a).dict() for a in patient.allergies.all()]
        data["medications"] = [MedicationOut.from_orm(m).dict() for m in patient.medications.filter(active=True)]
        data["risk_factors"] = [r.kind for r in patient.risk_factors.all()]
    return data


@router.get("/", response=list[PatientSummary])
def list_patients(request, q: str = "", limit: int = 50):
    """The clinic's patients, or those matching `q` the way the front desk's search box does: a name
    (partial, accents ignored, "last, first"), a date of birth (1980-05-17, 05/17/1980 US order, 17.05.1980),
    a phone number (digits compared), or part of an MRN. Each patient listed is audited."""
    if not 1 <= limit <= 200:
        raise HttpError(422, "limit must be between 1 and 200")
    require(request.auth, "patient.list")
    return search.find_patients(request.auth, q, limit=limit, channel="api")


@router.post("/", response={201: PatientOut, 409: LikelyDuplicateConflict})
def create_patient(request, payload: PatientIn):
    """Register a patient. 409 with `candidates` when likely duplicates exist (resend with
    `confirm_not_duplicate: true` if none is this person); 409 with only `detail` when a typed MRN is taken."""
    user = request.auth
    require(user, "patient.create")
    data = payload.dict()
    confirm = data.pop("confirm_not_duplicate")
    try:
        patient = registration.register_patient(user, user.clinic, data, confirm_not_duplicate=confirm, channel="api")
    except registration.LikelyDuplicates as exc:
        return Status(409, {
            "detail": "Likely duplicate: check the candidates; resend with confirm_not_duplicate=true if none is this person.",
            "candidates": [_candidate_out(user, c) for c in exc.candidates],
        })
    except services.DuplicateMRN as exc:
        raise HttpError(409, str(exc)) from exc
    except ValidationError as exc:
        raise HttpError(422, "; ".join(exc.messages)) from exc
    return Status(201, _out(user, patient))


@router.get("/{patient_id}", response=PatientOut)
def read_patient(request, patient_id: UUID):
    patient = get_patient_for_user(request.auth, patient_id, "patient.view")
    services.view_patient(request.auth, patient, channel="api")
    return _out(request.auth, patient)


@router.patch("/{patient_id}", response=PatientOut)
def update_patient(request, patient_id: UUID, payload: PatientPatch):
    patient = get_patient_for_user(request.auth, patient_id, "patient.update")
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    if not changes:
        raise HttpError(422, "Nothing to change: send at least one field besides version.")
    try:
        patient = services.update_patient(request.auth, patient, version, changes)
    except services.DuplicateMRN as exc:
        raise HttpError(409, str(exc)) from exc
    except ValidationError as exc:
        raise HttpError(422, "; ".join(exc.messages)) from exc
    return _out(request.auth, patient)
