"""Reads of outcome measurements for other apps (the FHIR interface): read-only, per clinic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from triggerpoint.outcomes.models import Measurement


def measurements_for_patients(patient_ids: Iterable[int], clinic):
    """The patients' completed instruments in the clinic, oldest first, with patient and procedure joined."""
    return (Measurement.objects.filter(patient_id__in=list(patient_ids), clinic=clinic)
            .select_related("patient", "procedure", "clinic").order_by("measured_at", "id"))


def measurement(clinic, public_id) -> Measurement | None:
    """The clinic's measurement with that public id, or None (also for a value that is not an id)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return Measurement.objects.select_related("patient", "procedure", "clinic").filter(clinic=clinic, public_id=key).first()
