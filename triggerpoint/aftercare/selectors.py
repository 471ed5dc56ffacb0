"""Reads of aftercare plans for other apps (the FHIR interface): read-only."""

from __future__ import annotations

from triggerpoint.aftercare.models import AftercarePlan


def plans(**filters):
    """Live aftercare plans (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``), newest first,
    with the notes each covers."""
    return (AftercarePlan.objects.filter(**filters)
            .select_related("patient", "procedure", "clinic").prefetch_related("also_covers")
            .order_by("-procedure_date", "-created_at"))
