"""Reads of clinics for other apps (the demo builder's safety checks, the FHIR Organization)."""

from __future__ import annotations

from triggerpoint.clinics.models import Clinic


def demo_present() -> bool:
    """Is there a demo clinic (built by `triggerpoint demo`)?"""
    return Clinic.objects.filter(is_demo=True).exists()


def has_real_clinics() -> bool:
    """Is there any clinic that is not a demo clinic?"""
    return Clinic.objects.filter(is_demo=False).exists()


def clinics(**filters):
    """Clinics narrowed by `filters` (the FHIR Organization reads its caller's clinic: `pk=`)."""
    return Clinic.objects.filter(**filters)


def clinic_by_slug(slug: str) -> Clinic | None:
    """The clinic with this slug, or None (commands name clinics by slug)."""
    return Clinic.objects.filter(slug=slug).first()
