"""Changes to clinics for other apps (the demo builder creates its clinics here)."""

from __future__ import annotations

from typing import Any

from triggerpoint.clinics.models import Clinic


def create_clinic(**fields: Any) -> Clinic:
    """A new clinic with these fields (name, slug, phone, address, is_demo, MRN format…)."""
    return Clinic.objects.create(**fields)
