"""Named state changes of the patient record; each is one transaction with its audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.patients.models import Allergy, AllergyStatus, Medication, Patient, RiskFactor

DEMOGRAPHIC_FIELDS = (
    "payer",
    "payer_member_id",
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "weight_kg",
    "weight_measured_on",
    "height_cm",
    "phone",
    "email",
    "address",
    "preferred_language",
)


class DuplicateMRN(ValueError):
    pass


class AllergyStatusConflict(ValueError):
    """"No known drug allergies" asked for while the chart lists active allergies (shown to the user as is)."""


def require_not_merged(patient: Patient) -> None:
    """A chart merged into another is read-only: its changes belong on the chart that survived."""
    if patient.merged_into_id:
        raise ValidationError(f"Chart {patient.mrn} was merged into another chart and can no longer be changed.")


def view_patient(user, patient: Patient, *, channel: str = "ui") -> Patient:
    """Record one read of a patient's data."""
    audit.record("patients.patient.viewed", obj=patient, details={"channel": channel})
    return patient


def create_patient(user, clinic, data: dict[str, Any]) -> Patient:
    require(user, "patient.create", clinic)
    patient = Patient(clinic=clinic, **{k: v for k, v in data.items() if k in DEMOGRAPHIC_FIELDS})
    # Validated before the transaction: on SQLite the transaction holds the database's one
    # write lock from its first statement, and every other writer waits while it is held.
    # Uniqueness is left to the database constraint, which also closes the race between two creates.
    patient.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                patient.save()
        except IntegrityError as exc:
            raise DuplicateMRN(f"MRN {patient.mrn} is already used in this clinic.") from exc
        audit.record("patients.patient.created", obj=patient)
    return patient


@transaction.atomic
def update_patient(user, patient: Patient, expected_version: int, changes: dict[str, Any]) -> Patient:
    """Apply demographic changes if nobody saved the record since `expected_version`."""
    require(user, "patient.update", patient)
    require_not_merged(patient)
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    old = {name: str(getattr(patient, name)) for name in changes}
    for name, value in changes.items():
        setattr(patient, name, value)
    patient.full_clean(validate_unique=False, validate_constraints=False)
    if "mrn" in changes and Patient.all_objects.filter(clinic=patient.clinic, mrn=patient.mrn).exclude(pk=patient.pk).exists():
        raise DuplicateMRN(f"MRN {patient.mrn} is already used in this clinic.")
    patient.save_versioned(expected_version, fields=list(changes))
    audit.record(
        "patients.patient.updated",
        obj=patient,
        details={"fields": sorted(changes), "before": _mask(old), "version": patient.version},
    )
    return patient


_IDENTIFYING = {"given_name", "family_name", "date_of_birth", "phone", "email", "address", "mrn"}


def _mask(values: dict[str, str]) -> dict[str, str]:
    """Keep identifying values out of generic change capture."""
    return {k: ("•••" if k in _IDENTIFYING else v) for k, v in values.items()}


@transaction.atomic
def add_allergy(user, patient: Patient, substance: str, reaction: str = "", severity: str = "unknown") -> Allergy:
    require(user, "patient.update_clinical", patient)
    require_not_merged(patient)
    allergy = Allergy(clinic=patient.clinic, patient=patient, substance=substance, reaction=reaction, severity=severity)
    allergy.full_clean()
    allergy.save()
    audit.record("patients.allergy.added", obj=allergy, patient=patient, details={"substance": substance})
    _set_allergy_status(patient, AllergyStatus.HAS_ALLERGIES)
    return allergy


@transaction.atomic
def record_no_known_allergies(user, patient: Patient) -> Patient:
    """Record that the patient was asked and has no known drug allergies (NKDA).

    Refused while the chart lists an active allergy: the two cannot both be true, and an
    allergy must be removed deliberately, not hidden by a status.
    """
    require(user, "patient.update_clinical", patient)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    require_not_merged(patient)
    active = list(patient.allergies.values_list("substance", flat=True))
    if active:
        raise AllergyStatusConflict(
            f"The chart lists active allergies ({', '.join(active)}): remove them before recording "
            "no known drug allergies."
        )
    _set_allergy_status(patient, AllergyStatus.NKDA)
    return patient


def _set_allergy_status(patient: Patient, status: str) -> None:
    """Store the status when it changes, with its own audit event (the chart and screening read it)."""
    fresh = Patient.objects.get(pk=patient.pk)
    if fresh.allergy_status == status:
        patient.allergy_status = status
        return
    before = fresh.allergy_status
    fresh.allergy_status = status
    fresh.save_versioned(fresh.version, fields=["allergy_status"])
    patient.allergy_status, patient.version = status, fresh.version
    audit.record("patients.allergy_status.recorded", obj=fresh, details={"before": before, "after": status})


@transaction.atomic
def add_medication(user, patient: Patient, name: str, drug_class: str, dose: str = "") -> Medication:
    require(user, "patient.update_clinical", patient)
    require_not_merged(patient)
    med = Medication(clinic=patient.clinic, patient=patient, name=name, drug_class=drug_class, dose=dose)
    med.full_clean()
    med.save()
    audit.record("patients.medication.added", obj=med, patient=patient, details={"name": name, "drug_class": drug_class})
    return med


@transaction.atomic
def add_risk_factor(user, patient: Patient, kind: str, note: str = "") -> RiskFactor:
    require(user, "patient.update_clinical", patient)
    require_not_merged(patient)
    risk = RiskFactor(clinic=patient.clinic, patient=patient, kind=kind, note=note)
    risk.full_clean()
    risk.save()
    audit.record("patients.risk_factor.added", obj=risk, patient=patient, details={"kind": kind})
    return risk


def lock_patient(patient_id: int) -> None:
    """Lock the patient's row (deleted or not) until the caller's transaction ends.

    Other apps serialise per patient on it: two notes of one day signed at once must not both start
    a plan or a set of check-ins.
    """
    Patient.all_objects.select_for_update().filter(pk=patient_id).first()
