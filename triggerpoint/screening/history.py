"""The procedure history screening reads, supplied by the procedures app (one layer up).

Screening sits below procedures (a note cannot be signed until its screening allows it), yet
its rules need the patient's signed history: the last toxin session, the clinic's steroid
count, the planned session's repeat checks. Screening names what it needs here; procedures
registers its selectors at start-up (`ProceduresConfig.ready` calls `provide`). A reader that
was never provided raises ImproperlyConfigured: a missing history never reads as "none".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

READERS = ("last_toxin_session_before", "clinic_steroid_sessions_12m", "planned_session_checks")

_provided: dict[str, Callable[..., Any]] = {}


def provide(**readers: Callable[..., Any]) -> None:
    unknown = sorted(set(readers) - set(READERS))
    if unknown:
        raise ImproperlyConfigured(f"screening.history has no reader named {', '.join(unknown)}")
    _provided.update(readers)


def _reader(name: str) -> Callable[..., Any]:
    try:
        return _provided[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"screening.history.{name} was never provided (is triggerpoint.procedures installed?)"
        ) from None


def last_toxin_session_before(patient, before):
    return _reader("last_toxin_session_before")(patient, before)


def clinic_steroid_sessions_12m(patient, before) -> int:
    return _reader("clinic_steroid_sessions_12m")(patient, before)


def planned_session_checks(patient, on_date, muscles):
    return _reader("planned_session_checks")(patient, on_date, muscles)
