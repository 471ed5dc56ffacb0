"""The patient chart timeline, filled by every clinical module.

Each app may provide `triggerpoint.<app>.timeline.entries(patient, user)`
returning `TimelineEntry` items; the chart merges them newest first. Apps stay
independent: the patients app never imports their models.

The entries are cached per chart and per role set (they depend on the user only through
`accounts.policy.can`, which reads roles and clinic), under a generation token per chart
(`core.generations`): a clinician going back and forth between a chart's pages does not pay
for every app's queries each time. The token is renewed when the chart's records change:
  * each plug-in lists in `CHANGED_BY` the models its entries are built from, with the
    attribute path from a row to its patient ("patient_id", "visit.patient_id"); a save or delete
    of such a row, or its `save_versioned` (which sends `core.changes.versioned_record_saved`),
    renews that chart's token in the writer's transaction (`chart_changed` says why);
  * rows only ever written together with a tracked parent are listed in `WRITTEN_WITH` instead
    (a draft note's sites are rewritten with the note);
  * a write that skips model signals (`QuerySet.update()`: the outbox's delivery states, the
    check-in and alert claims) sends `core.changes.patient_records_changed`.
Anything else (raw SQL, a script) is bounded by TIMELINE_CACHE_SECONDS, and the cache key carries
the clinic's date, so entries that depend on "today" never outlive their day. A test checks that
every model of a timeline app that belongs to a patient is tracked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from triggerpoint.core import generations, plugins
from triggerpoint.core.changes import patient_records_changed, versioned_record_saved
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


def entries_html(entries: list[TimelineEntry]) -> str:
    """The timeline's list items, built here rather than in a template loop: a busy chart has dozens of
    entries, and Django's template engine spent about as long on them as everything else in the cached
    request (issue 13's profile). Every value is escaped (`format_html`); times are the active (clinic) zone's."""
    if not entries:
        return format_html('<li class="empty">{}</li>', "No visits, procedures or check-ins yet.")
    items = []
    for e in entries:
        at = timezone.localtime(e.at)
        title = format_html('<a href="{}">{}</a>', e.url, e.title) if e.url else conditional_escape(e.title)
        status = format_html(' <span class="pill">{}</span>', e.status) if e.status else ""
        summary = format_html(' <p class="hint">{}</p>', e.summary) if e.summary else ""
        items.append(format_html('<li class="tl-{}"><time datetime="{}">{}</time> <span class="tl-kind">{}</span> '
                                 '{}{}{}</li>', e.kind, at.isoformat(), at.strftime("%Y-%m-%d"), e.kind, title,
                                 status, summary))
    return mark_safe("\n".join(items))  # noqa: S308 - each item was built by format_html above


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
        collected.extend(_chart_entries(chart, user))
    return sorted(collected, key=lambda e: e.at, reverse=True)


def _cache_seconds() -> int:
    return getattr(settings, "TIMELINE_CACHE_SECONDS", 120)


def _generation(patient_id: int) -> str:
    return f"timeline:{patient_id}"


def _chart_entries(chart, user) -> list[TimelineEntry]:
    seconds = _cache_seconds()
    if seconds <= 0:
        return _collect(chart, user)
    roles = hashlib.blake2b(",".join(sorted(getattr(user, "roles", ()))).encode(), digest_size=8).hexdigest()
    key = f"tp:timeline:{chart.pk}:{user.clinic_id}:{roles}:{timezone.localdate().isoformat()}"
    cached, token = generations.read(key, _generation(chart.pk))
    if cached is not None:
        return cached
    found = _collect(chart, user)
    generations.write(key, token, found, seconds)
    return found


def _collect(chart, user) -> list[TimelineEntry]:
    found: list[TimelineEntry] = []
    for module in _modules():
        found.extend(module.entries(chart, user))
    return found


# ------------------------------------------------------------------ keeping the cache true
_PATIENT_ID_OF: dict[type, Callable[[Any], int | None]] = {}


def chart_changed(patient_ids: Iterable[int | None]) -> None:
    """Renew the timeline token of these charts.

    It is renewed inside the writer's transaction: with the database cache (settings.CACHES) the new
    token commits or rolls back with the change, so a reader sees either the old rows and the old token
    or the new rows and the new token, and a value computed from old rows is never accepted after the
    commit (`core.generations`). A cache outside the database would need this on commit instead."""
    ids = sorted({pid for pid in patient_ids if pid is not None})
    if ids:
        generations.renew([_generation(pid) for pid in ids], keep_for=2 * max(_cache_seconds(), 1))


def _path_reader(path: str) -> Callable[[Any], int | None]:
    read = attrgetter(path)

    def patient_id(instance) -> int | None:
        try:
            return read(instance)
        except (AttributeError, ObjectDoesNotExist):  # a row whose parent is already gone
            return None

    return patient_id


def _on_row_changed(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    chart_changed([_PATIENT_ID_OF[sender](instance)])


def _on_records_changed(sender, patient_ids=(), **kwargs) -> None:
    chart_changed(patient_ids)


def tracked_models() -> dict[type, str]:
    """Every model the plug-ins build entries from, with its path to the patient (their `CHANGED_BY`)."""
    found: dict[type, str] = {}
    for module in _modules():
        for label, path in getattr(module, "CHANGED_BY", {}).items():
            found[apps.get_model(label)] = path
    return found


def written_with_parent() -> dict[type, type]:
    """Models whose rows are only ever written together with a tracked parent row, in its transaction
    (the plug-ins' `WRITTEN_WITH`: a draft note's sites are rewritten with the note), so they need no
    listener of their own."""
    found: dict[type, type] = {}
    for module in _modules():
        for label, parent in getattr(module, "WRITTEN_WITH", {}).items():
            found[apps.get_model(label)] = apps.get_model(parent)
    return found


def connect_cache_invalidation() -> None:
    """Listen for changes of every tracked model (called once from the patients app's `ready`)."""
    for model, path in tracked_models().items():
        _PATIENT_ID_OF[model] = _path_reader(path)
        post_save.connect(_on_row_changed, sender=model, dispatch_uid=f"timeline-save-{model._meta.label}")
        post_delete.connect(_on_row_changed, sender=model, dispatch_uid=f"timeline-delete-{model._meta.label}")
        versioned_record_saved.connect(_on_row_changed, sender=model, dispatch_uid=f"timeline-vsave-{model._meta.label}")
    patient_records_changed.connect(_on_records_changed, dispatch_uid="timeline-records-changed")
