"""The worklist section type (the worklist page assembles them: `shell.sections`).

Each app may provide `triggerpoint.<app>.worklist.sections(user)` returning
`WorklistSection` items; lower `priority` shows first (open alerts first).
Every patient a section lists is audited as shown (`patient_ids_shown`): put the
rows in the section's context as a list of patients, of records with a
`patient_id`, or of dicts with a "patient".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WorklistSection:
    title: str
    template: str
    priority: int = 50
    context: dict[str, Any] = field(default_factory=dict)
    count: int | None = None
