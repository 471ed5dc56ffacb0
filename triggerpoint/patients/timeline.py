"""The patient chart timeline, filled by every clinical module.

Each app may provide `triggerpoint.<app>.timeline.entries(patient, user)`
returning `TimelineEntry` items; the chart merges them newest first. Apps stay
independent: the patients app never imports their models.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime

CONTRIBUTING_APPS = ("assessment", "screening", "procedures", "aftercare", "followup", "outcomes")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # e.g. "procedure", "assessment"
    title: str
    summary: str = ""
    url: str = ""
    status: str = ""


def entries_for(patient, user) -> list[TimelineEntry]:
    collected: list[TimelineEntry] = []
    for app in CONTRIBUTING_APPS:
        try:
            module = importlib.import_module(f"triggerpoint.{app}.timeline")
        except ModuleNotFoundError as exc:
            if exc.name != f"triggerpoint.{app}.timeline":
                raise
            continue
        collected.extend(module.entries(patient, user))
    return sorted(collected, key=lambda e: e.at, reverse=True)
