"""The clinician worklist and the portal home, assembled from every app that contributes.

Sections come from each installed app's `worklist.sections(user)` / `portal.sections(user)`
(core.plugins); lower `priority` shows first, ties keep INSTALLED_APPS order.
"""

from __future__ import annotations

from triggerpoint.core import plugins
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.patients.selectors import is_patient


def sections_for(user) -> list[WorklistSection]:
    found: list[WorklistSection] = []
    for module in plugins.modules("worklist"):
        found.extend(module.sections(user))
    return sorted(found, key=lambda s: s.priority)


def portal_sections_for(user) -> list[WorklistSection]:
    sections: list[WorklistSection] = []
    for module in plugins.modules("portal"):
        sections.extend(module.sections(user))
    return sections


def patient_ids_shown(sections: list[WorklistSection]) -> list[int]:
    """The primary keys of the patients the sections list, each once, in the order shown.

    Reads the lists in each section's context: a Patient, a dict with a "patient", or any
    record with a `patient_id` (read without loading the patient). Other values are not rows.
    """
    found: dict[int, None] = {}
    for section in sections:
        for value in section.context.values():
            if not isinstance(value, (list, tuple)):
                continue
            for item in value:
                if is_patient(item):
                    patient_id = item.pk
                elif isinstance(item, dict):
                    patient_id = getattr(item.get("patient"), "pk", None)
                else:
                    patient_id = getattr(item, "patient_id", None)
                if patient_id is not None:
                    found.setdefault(patient_id, None)
    return list(found)
