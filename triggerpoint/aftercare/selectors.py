"""Reads of aftercare plans for other apps (the FHIR interface): read-only, per clinic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from triggerpoint.aftercare.models import AftercarePlan

_RELATED = ("patient", "procedure", "clinic", "created_by")


def plans_for_patients(patient_ids: Iterable[int], clinic):
    """The patients' live aftercare plans in the clinic, newest first, with the notes each covers."""
    return (AftercarePlan.objects.filter(patient_id__in=list(patient_ids), clinic=clinic)
            .select_related(*_RELATED).prefetch_related("also_covers").order_by("-procedure_date", "-created_at"))


def plan(clinic, public_id) -> AftercarePlan | None:
    """The clinic's live plan with that public id, or None (also for a value that is not an id)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return (AftercarePlan.objects.filter(clinic=clinic, public_id=key)
            .select_related(*_RELATED).prefetch_related("also_covers").first())
