"""What an import from another system (the EHR, `fhir.importing`) asks of the chart: public reads and changes.

* Identifiers the other system gave the patient (`PatientIdentifier`, unique per clinic + system +
  value): the first thing an import matches on.
* Imported items (`ImportedItem`): every coded allergy, medication, condition or weight received is
  kept as sent, with what it became on the chart, or flagged `needs_classification` when no vocabulary
  of ours recognised it. Nothing received is dropped; a re-sent item (same patient, kind, system, code
  and text) changes nothing.

Each change is audited under its patient and checks the same policy actions as the pages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.patients import services
from triggerpoint.patients.models import ImportedItem, Patient, PatientIdentifier
from triggerpoint.patients.selectors import chart_ids, surviving_chart

CLINICAL_KINDS = ("allergy", "medication", "condition")
KINDS = (*CLINICAL_KINDS, "weight")


def patient_by_identifier(clinic: Any, system: str, value: str) -> Patient | None:
    """The clinic's chart holding this identifier (a merged chart answers its survivor), or None."""
    row = PatientIdentifier.objects.filter(clinic=clinic, system=system, value=value).select_related("patient").first()
    return surviving_chart(row.patient) if row else None


def identifiers_of(patient: Patient) -> list[tuple[str, str]]:
    return list(PatientIdentifier.objects.filter(patient=patient).values_list("system", "value"))


@transaction.atomic
def add_identifier(user, patient: Patient, system: str, value: str) -> bool:
    """Record an identifier on the chart; False when the chart already holds it."""
    require(user, "patient.update", patient)
    services.require_not_merged(patient)
    _row, created = PatientIdentifier.objects.get_or_create(clinic=patient.clinic, system=system, value=value,
                                                            defaults={"patient": patient})
    if not created:
        if _row.patient_id not in chart_ids(patient):  # an absorbed chart's identifier is the survivor's
            raise ValueError(f"Identifier {system}|{value} already names another chart.")
        return False
    audit.record("patients.identifier.added", obj=patient, details={"system": system})
    return True


def has_allergy(patient: Patient, substance: str) -> bool:
    return patient.allergies.filter(substance__iexact=substance.strip()).exists()


def has_medication(patient: Patient, name: str) -> bool:
    return patient.medications.filter(name__iexact=name.strip(), active=True).exists()


def imported_items(patient: Patient, **filters) -> QuerySet:
    """The items of every chart that makes up this patient (a merged chart's items stay where they are)."""
    return ImportedItem.objects.filter(patient_id__in=chart_ids(patient), **filters)


def items_needing_classification(patient: Patient) -> QuerySet:
    return imported_items(patient, needs_classification=True)


def find_item(patient: Patient, *, kind: str, system: str, code: str, text: str) -> ImportedItem | None:
    return imported_items(patient, kind=kind, system=system, code=code, text=text[:255]).first()


@transaction.atomic
def keep_item(user, patient: Patient, *, kind: str, system: str, code: str, text: str, detail: str = "",
              mapped_to: str = "", needs_classification: bool = False, source: str = "") -> tuple[ImportedItem, bool]:
    """Keep one received item; (item, False) when the same item was kept before (nothing changes)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown imported item kind {kind!r}.")
    require(user, "patient.update_clinical" if kind in CLINICAL_KINDS else "patient.update", patient)
    services.require_not_merged(patient)
    existing = find_item(patient, kind=kind, system=system, code=code, text=text)
    if existing is not None:
        return existing, False
    item = ImportedItem(clinic=patient.clinic, patient=patient, kind=kind, system=system[:255], code=code[:100],
                        text=text[:255], detail=detail[:255], mapped_to=mapped_to[:200],
                        needs_classification=needs_classification, source=source[:255])
    item.full_clean(validate_unique=False, validate_constraints=False)
    item.save()
    audit.record("patients.imported_item.kept", obj=item, patient=patient, details={
        "kind": kind, "system": system, "code": code, "mapped_to": mapped_to,
        "needs_classification": needs_classification, "source": source})
    return item, True


def record_weight(user, patient: Patient, weight_kg: Decimal, measured_on: date) -> bool:
    """Set the chart's weight when this measurement is newer than the one on the chart; False when not applied."""
    fresh = Patient.objects.get(pk=patient.pk)
    if fresh.weight_measured_on and fresh.weight_measured_on >= measured_on:
        return False
    services.update_patient(user, fresh, fresh.version,
                            {"weight_kg": weight_kg.quantize(Decimal("0.1")), "weight_measured_on": measured_on})
    return True


@transaction.atomic
def mark_classified(user, patient: Patient, item: ImportedItem, note: str = "") -> ImportedItem:
    """A person classified an imported item of `patient` (an absorbed chart's item counts as the survivor's)."""
    require(user, "patient.update_clinical", patient)
    services.require_not_merged(patient)
    if item.patient_id not in chart_ids(patient):
        raise ValueError("That item belongs to another patient.")
    item.needs_classification = False
    item.detail = (f"classified: {note.strip()}" if note.strip() else "classified")[:255]
    item.save(update_fields=["needs_classification", "detail", "updated_at", "updated_by"])
    audit.record("patients.imported_item.classified", obj=item, patient=patient,
                 details={"kind": item.kind, "code": item.code, "note": note.strip()[:200]})
    return item
