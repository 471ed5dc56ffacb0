"""The clinician worklist home page, assembled from every clinical module.

Each app may provide `triggerpoint.<app>.worklist.sections(user)` returning
`WorklistSection` items; lower `priority` shows first (open alerts first).
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
