"""What other apps read from the patients app: the patient a user may act on, a portal account's patient."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from triggerpoint.accounts.policy import audit_refusal, require_audited
from triggerpoint.patients.folding import fold
from triggerpoint.patients.models import Allergy, AllergyStatus, Patient


def get_patient_for_user(user: Any, public_id: Any, action: str = "patient.view") -> Patient:
    """The patient, if this user may `action` it; 404 when missing or out of scope, 403 for the wrong role."""
    try:
        patient = Patient.objects.select_related("clinic").get(public_id=public_id)
    except (Patient.DoesNotExist, ValidationError, ValueError) as exc:
        audit_refusal(user, Patient, public_id, action, None)
        raise Http404("No such patient.") from exc
    require_audited(user, action, patient, public_id)
    return patient


def portal_patient_of(user: Any) -> Patient | None:
    """The patient record a portal account belongs to, or None (accounts' `User.portal_patient`)."""
    return Patient.objects.filter(portal_user=user).first()


def patient_by_mrn(clinic: Any, mrn: str) -> Patient | None:
    """The clinic's patient with exactly this MRN (the front desk books by the number on the card), or None."""
    mrn = (mrn or "").strip()
    return Patient.objects.filter(clinic=clinic, mrn__iexact=mrn).first() if mrn else None


def allergies_asked(patient: Patient) -> bool:
    """Has anyone recorded the patient's allergy status ("no known drug allergies" counts; "unknown" does not)?"""
    return patient.allergy_status != AllergyStatus.UNKNOWN


def patients(**filters):
    """The clinic's patients narrowed by `filters` (clinic_id, pk__in, public_id__in…), with their clinic loaded.

    The FHIR interface asks here so what a chart is (soft-deleted ones are not) stays in this app."""
    return Patient.objects.select_related("clinic").filter(**filters)


def name_starts_with(queryset, text: str):
    """Patients one of whose name words starts with `text`, accents and case ignored (FHIR `name` search)."""
    key = fold(text)
    if not key:
        return queryset.none()
    return queryset.filter(Q(search_name__startswith=key) | Q(search_name__contains=f" {key}"))


def allergies(**filters):
    """Recorded allergies (one row per substance) of charts that are not deleted, narrowed by `filters`."""
    return Allergy.objects.select_related("patient", "patient__clinic").filter(patient__deleted_at__isnull=True,
                                                                               **filters)


def patients_without_known_drug_allergies(**filters):
    """Patients whose recorded answer is "no known drug allergies" (asked, none), narrowed by `filters`."""
    return patients(allergy_status=AllergyStatus.NKDA, **filters)


def patients_with_sex(queryset, codes):
    """Patients recorded with one of these sexes (female, male, other, unknown)."""
    return queryset.filter(sex__in=list(codes))
