"""Reads of outcome measurements for other apps (the FHIR interface): read-only."""

from __future__ import annotations

from triggerpoint.outcomes.models import Measurement


def measurements(**filters):
    """Completed instruments (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``), oldest first,
    with patient, clinic and procedure joined."""
    return (Measurement.objects.filter(**filters)
            .select_related("patient", "procedure", "clinic").order_by("measured_at", "id"))
