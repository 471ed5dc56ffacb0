"""The patient chart timeline, filled by every clinical module.

Each app may provide `triggerpoint.<app>.timeline.entries(patient, user)`
returning `TimelineEntry` items; the chart merges them newest first. Apps stay
independent: the patients app never imports their models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triggerpoint.core import plugins
from triggerpoint.patients.selectors import absorbed_charts


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # e.g. "procedure", "assessment"
    title: str
    summary: str = ""
    url: str = ""
    status: str = ""


@dataclass(frozen=True)
class ChartAction:
    label: str
    url: str
    primary: bool = False


def _modules():
    return plugins.modules("timeline")


def actions_for(patient, user) -> list[ChartAction]:
    """Buttons on the chart ("New assessment visit", …): each app's optional `timeline.actions(patient, user)`."""
    found: list[ChartAction] = []
    for module in _modules():
        provider = getattr(module, "actions", None)
        if provider is not None:
            found.extend(provider(patient, user))
    return found


def entries_for(patient, user) -> list[TimelineEntry]:
    """Every app's entries for this chart and for the charts merged into it (their signed records stay there)."""
    collected: list[TimelineEntry] = []
    for chart in [patient, *absorbed_charts(patient)]:
        for module in _modules():
            collected.extend(module.entries(chart, user))
    return sorted(collected, key=lambda e: e.at, reverse=True)
