"""The port through which a portal account finds its patient record (`User.portal_patient`).

The patients app sits one layer up, so it supplies the lookup at start-up
(`PatientsConfig.ready` calls `set_portal_patient_lookup` with `patients.selectors.portal_patient_of`);
this module holds it without importing any models, so the patients app never touches `accounts.models`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_portal_patient_lookup: Callable[[Any], Any] | None = None


def set_portal_patient_lookup(lookup: Callable[[Any], Any]) -> None:
    """Called by the patients app at start-up: how a portal account finds its patient record."""
    global _portal_patient_lookup
    _portal_patient_lookup = lookup


def portal_patient_of(user: Any) -> Any:
    """The patient record of this portal account, or None (raises when no lookup was provided)."""
    if _portal_patient_lookup is None:
        raise ImproperlyConfigured("No portal patient lookup: is triggerpoint.patients installed?")
    return _portal_patient_lookup(user)
