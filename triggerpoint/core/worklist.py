"""The clinician worklist home page, assembled from every clinical module.

Each app may provide `triggerpoint.<app>.worklist.sections(user)` returning
`WorklistSection` items; lower `priority` shows first (open alerts first).
Every patient a section lists is audited as shown (`patient_ids_shown`): put the
rows in the section's context as a list of patients, of records with a
`patient_id`, or of dicts with a "patient".
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

CONTRIBUTING_APPS = ("followup", "screening", "assessment", "procedures", "aftercare", "outcomes")


@dataclass
class WorklistSection:
    title: str
    template: str
    priority: int = 50
    context: dict[str, Any] = field(default_factory=dict)
    count: int | None = None


def sections_for(user) -> list[WorklistSection]:
    found: list[WorklistSection] = []
    for app in CONTRIBUTING_APPS:
        try:
            module = importlib.import_module(f"triggerpoint.{app}.worklist")
        except ModuleNotFoundError as exc:
            if exc.name != f"triggerpoint.{app}.worklist":
                raise
            continue
        found.extend(module.sections(user))
    return sorted(found, key=lambda s: s.priority)


def patient_ids_shown(sections: list[WorklistSection]) -> list[int]:
    """The primary keys of the patients the sections list, each once, in the order shown.

    Reads the lists in each section's context: a Patient, a dict with a "patient", or any
    record with a `patient_id` (read without loading the patient). Other values are not rows.
    """
    from triggerpoint.patients.models import Patient

    found: dict[int, None] = {}
    for section in sections:
        for value in section.context.values():
            if not isinstance(value, (list, tuple)):
                continue
            for item in value:
                if isinstance(item, Patient):
                    patient_id = item.pk
                elif isinstance(item, dict):
                    patient_id = getattr(item.get("patient"), "pk", None)
                else:
                    patient_id = getattr(item, "patient_id", None)
                if patient_id is not None:
                    found.setdefault(patient_id, None)
    return list(found)
