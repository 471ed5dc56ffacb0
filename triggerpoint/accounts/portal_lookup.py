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
_chart_ids_lookup: Callable[[Any], list[int]] | None = None


def set_portal_patient_lookup(lookup: Callable[[Any], Any], chart_ids: Callable[[Any], list[int]] | None = None) -> None:
    """Called by the patients app at start-up: how a portal account finds its patient record, and the
    charts that make up that patient after a merge (`patients.selectors.chart_ids`)."""
    global _portal_patient_lookup, _chart_ids_lookup
    _portal_patient_lookup = lookup
    _chart_ids_lookup = chart_ids


def chart_ids_of(patient: Any) -> frozenset[int]:
    """Every chart of this patient (one, or more after a merge)."""
    if _chart_ids_lookup is None:
        return frozenset({patient.pk})
    return frozenset(_chart_ids_lookup(patient))


def portal_patient_of(user: Any) -> Any:
    """The patient record of this portal account, or None (raises when no lookup was provided)."""
    if _portal_patient_lookup is None:
        raise ImproperlyConfigured("No portal patient lookup: is triggerpoint.patients installed?")
    return _portal_patient_lookup(user)
