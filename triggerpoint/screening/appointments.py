"""The procedure appointment a new screening is planned for, supplied by the scheduling app (one layer up).

Scheduling sits above screening (the appointment times the screening's preparation message), so
screening never imports it; yet a new screening's planned procedure date should start from the
patient's booked procedure appointment. Screening names the reader it needs here and
`SchedulingConfig.ready` hands it `scheduling.selectors.upcoming_procedure_appointment`, as
procedures does for `screening.history`. A reader never provided raises ImproperlyConfigured:
a missing schedule never reads as "no appointment".

The reader takes the patient and, optionally, the public id of the appointment the schedule or
worklist named, and returns None or ``{"id": public id, "date": the clinic's local date,
"at": "YYYY-MM-DD HH:MM" on the clinic's clock}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_reader: Callable[..., dict[str, Any] | None] | None = None


def provide(upcoming_procedure_appointment: Callable[..., dict[str, Any] | None]) -> None:
    global _reader
    _reader = upcoming_procedure_appointment


def upcoming_procedure_appointment(patient, appointment_id: Any = None) -> dict[str, Any] | None:
    if _reader is None:
        raise ImproperlyConfigured("screening.appointments was never provided (is triggerpoint.scheduling installed?)")
    return _reader(patient, appointment_id)
