"""The signed assessment plan screening prefills from, supplied from one layer up.

Screening and assessment sit on one layer and never import each other, yet a new screening
should start from what the physician planned at the assessment (the muscles and sides, the
injectates, the technique). Screening names the reader it needs here; `ProceduresConfig.ready`
(procedures may import both) hands it assessment's `visit_reads.latest_signed_plan`, as it does
for `screening.history`. A reader never provided raises ImproperlyConfigured: a missing plan
reader never reads as "no plan".

The reader returns None or ``{"visit", "visit_date", "sites": [{muscle, side}], "injectates":
[{drug, ...}], "technique", "diagnosis_codes"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_reader: Callable[..., dict[str, Any] | None] | None = None


def provide(latest_signed_plan: Callable[..., dict[str, Any] | None]) -> None:
    global _reader
    _reader = latest_signed_plan


def latest_signed_plan(patient, on: date | None = None) -> dict[str, Any] | None:
    if _reader is None:
        raise ImproperlyConfigured("screening.assessment_plan was never provided (is triggerpoint.procedures installed?)")
    return _reader(patient, on)
