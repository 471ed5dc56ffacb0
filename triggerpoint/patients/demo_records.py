"""The demo builder's patients (`triggerpoint demo` only, never the clinic), stored as drawn.

`shell.demo_clinic` draws every value from its seed and hands them here, so the same seed gives the
same patients; the chart's own services (audit, validation, MRN numbering) are for real registrations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triggerpoint.patients.models import Allergy, AllergyStatus, Medication, Patient, RiskFactor


def create_demo_patient(
    clinic: Any,
    fields: dict[str, Any],
    *,
    allergies: Iterable[tuple[str, str, str]],
    medications: Iterable[tuple[str, str]],
    risk_kinds: Iterable[str],
) -> Patient:
    """A demo patient with these demographics, allergies (substance, reaction, severity), medications
    (name, drug class) and risk factors; the allergy status is recorded (none known when none are given)."""
    patient = Patient.objects.create(clinic=clinic, **fields)
    allergies = list(allergies)
    for substance, reaction, severity in allergies:
        Allergy.objects.create(clinic=clinic, patient=patient, substance=substance, reaction=reaction, severity=severity)
    # Every demo patient was asked (issue 14: "no known drug allergies" is a recorded answer, not an empty list).
    status = AllergyStatus.HAS_ALLERGIES if allergies else AllergyStatus.NKDA
    Patient.objects.filter(pk=patient.pk).update(allergy_status=status)
    patient.allergy_status = status
    for name, drug_class in medications:
        Medication.objects.create(clinic=clinic, patient=patient, name=name, drug_class=drug_class)
    for kind in risk_kinds:
        RiskFactor.objects.create(clinic=clinic, patient=patient, kind=kind)
    return patient
