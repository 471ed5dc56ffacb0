"""Aftercare plan templates: the clinic's day-by-day instructions as validated data.

A template decides *which* instruction a patient gets on *which* day after trigger
point injections, and under which facts (a steroid was given, the patient has
diabetes, a site lies over the thorax, physical therapy is planned). The text and
the day ranges are clinical content owned by the clinic, so they live in YAML under
``data/templates/`` and are checked twice: against a JSON Schema for shape, then here
for the cross-references a schema cannot see (source keys, condition ids, reminder
tasks, text placeholders). A broken edit fails at load instead of in a patient's hands.

The two offsets (activity restriction, warning window) are the template's threshold
table: a clinic overrides them by shipping another template, never by editing code.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from triggerpoint.core.rules import Rule
from triggerpoint.followup import windows  # called as windows.load_windows(): one table, replaceable in tests

TEMPLATE_DIR = Path(__file__).resolve().parent / "data" / "templates"
SCHEMA_PATH = TEMPLATE_DIR / "template.schema.json"

SUPPORTED_LANGUAGES = ("en", "es")
NAMED_OFFSETS = ("activity_restriction", "warning_window")
SLOTS = ("morning", "evening")

# Which placeholders each kind of text may use; anything else is a typo that would
# otherwise surface as a KeyError while rendering one patient's plan.
#: {fever_days}, {site_days}, {toxin_weeks}: the warning-sign windows (followup/data/warning_windows.yaml).
WINDOW_PLACEHOLDERS = frozenset({"fever_days", "site_days", "toxin_weeks"})
COMMON_PLACEHOLDERS = frozenset({"clinic", "risk_muscles"}) | WINDOW_PLACEHOLDERS
PER_MUSCLE_PLACEHOLDERS = COMMON_PLACEHOLDERS | {"muscle_name", "sides", "stretches"}
WITHOUT_STRETCH_PLACEHOLDERS = COMMON_PLACEHOLDERS | {"muscle_name", "sides"}
REMINDER_PLACEHOLDERS = frozenset({"clinic"}) | WINDOW_PLACEHOLDERS


class TemplateError(ValueError):
    """A template file does not match its schema or refers to something that does not exist."""


@dataclass(frozen=True)
class PlanOffsets:
    """The template's threshold table, in days after the procedure (day 0)."""

    activity_restriction: int = 3
    warning_window: int = 5

    def resolve(self, day: int | str) -> int:
        """A day number, or a named offset turned into its number."""
        return day if isinstance(day, int) else getattr(self, day)


@dataclass(frozen=True)
class When:
    """Facts that must all hold for a task to appear; `None` means "not asked"."""

    injectate_classes: frozenset[str] | None = None
    condition: str | None = None
    pneumothorax_risk_site: bool | None = None
    physical_therapy_planned: bool | None = None

    def holds(
        self,
        *,
        injectate_classes: frozenset[str],
        conditions: frozenset[str],
        pneumothorax_risk_site: bool,
        physical_therapy_planned: bool,
    ) -> bool:
        if self.injectate_classes is not None and not (self.injectate_classes & injectate_classes):
            return False
        if self.condition is not None and self.condition not in conditions:
            return False
        if self.pneumothorax_risk_site is not None and self.pneumothorax_risk_site != pneumothorax_risk_site:
            return False
        return not (
            self.physical_therapy_planned is not None
            and self.physical_therapy_planned != physical_therapy_planned
        )


@dataclass(frozen=True)
class TaskTemplate:
    id: str
    kind: str
    first_day: int
    last_day: int
    when: When
    article_ids: tuple[str, ...]
    text: Mapping[str, str]
    rule: Rule
    per_muscle: bool = False
    text_without_stretch: Mapping[str, str] | None = None

    def on_day(self, day_number: int) -> bool:
        return self.first_day <= day_number <= self.last_day


@dataclass(frozen=True)
class ReminderTemplate:
    id: str
    day: int
    slot: str
    kind: str
    requires_task: str
    text: Mapping[str, str]


@dataclass(frozen=True)
class PlanTemplate:
    id: str
    version: int
    title: str
    offsets: PlanOffsets
    sources: Mapping[str, str]
    conditions: Mapping[str, str]
    labels: Mapping[str, Any]
    tasks: tuple[TaskTemplate, ...]
    reminders: tuple[ReminderTemplate, ...]

    @property
    def last_day(self) -> int:
        """The plan runs from day 0 through the last day any task or reminder needs."""
        return max([task.last_day for task in self.tasks] + [reminder.day for reminder in self.reminders])

    @property
    def article_ids(self) -> frozenset[str]:
        return frozenset(article for task in self.tasks for article in task.article_ids)

    def label(self, key: str, language: str) -> str:
        return self.labels[key][language]

    def side_label(self, side: str, language: str) -> str:
        return self.labels["sides"][side][language]


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _check_placeholders(
    where: str, texts: Mapping[str, str], allowed: frozenset[str], problems: list[str]
) -> None:
    for language, text in texts.items():
        try:
            unknown = _placeholders(text) - allowed
        except ValueError as error:
            problems.append(f"{where}.{language}: malformed placeholder ({error})")
            continue
        if unknown:
            problems.append(
                f"{where}.{language}: unknown placeholders {sorted(unknown)}; allowed {sorted(allowed)}"
            )


def _when_from(raw: Mapping[str, Any] | None) -> When:
    if not raw:
        return When()
    classes = raw.get("injectate_class")
    if isinstance(classes, str):
        classes = [classes]
    return When(
        injectate_classes=frozenset(classes) if classes is not None else None,
        condition=raw.get("condition"),
        pneumothorax_risk_site=raw.get("pneumothorax_risk_site"),
        physical_therapy_planned=raw.get("physical_therapy_planned"),
    )


def _offset_days(value: int | str) -> int:
    """An offset in days, or the name of a follow-up warning window whose days it takes.

    ``warning_window: fever_allergy`` keeps the plan's warning days equal to the days triage
    pages those signs (followup/data/warning_windows.yaml), instead of repeating the number.
    """
    if isinstance(value, int):
        return value
    return windows.load_windows().days(value)


def build_template(document: Mapping[str, Any], origin: str = "<template>") -> PlanTemplate:
    """Turn a parsed template document into a `PlanTemplate`, checking schema and cross-references.

    Raises `TemplateError` naming every problem found.
    """
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
        raise TemplateError(f"{origin} does not match template.schema.json: {details}")

    problems: list[str] = []
    offsets = PlanOffsets(**{name: _offset_days(value) for name, value in document["offsets"].items()})
    sources = dict(document["sources"])
    conditions = dict(document["conditions"])
    template_id = document["id"]

    tasks: list[TaskTemplate] = []
    seen_tasks: set[str] = set()
    for raw in document["tasks"]:
        where = f"tasks/{raw['id']}"
        if raw["id"] in seen_tasks:
            problems.append(f"{where}: duplicate task id")
        seen_tasks.add(raw["id"])
        first_day = offsets.resolve(raw["days"]["from"])
        last_day = offsets.resolve(raw["days"]["to"])
        if first_day > last_day:
            problems.append(f"{where}: days.from ({first_day}) is after days.to ({last_day})")
        unknown_sources = [key for key in raw["basis"]["sources"] if key not in sources]
        if unknown_sources:
            problems.append(f"{where}: unknown source keys {unknown_sources}; known {sorted(sources)}")
        when = _when_from(raw.get("when"))
        if when.condition is not None and when.condition not in conditions:
            problems.append(f"{where}: unknown condition {when.condition!r}; known {sorted(conditions)}")
        per_muscle = bool(raw.get("per_muscle", False))
        # {risk_muscles} would render empty unless the task only appears for thoracic sites.
        not_here = frozenset() if when.pneumothorax_risk_site is True else frozenset({"risk_muscles"})
        allowed = (PER_MUSCLE_PLACEHOLDERS if per_muscle else COMMON_PLACEHOLDERS) - not_here
        _check_placeholders(f"{where}/text", raw["text"], allowed, problems)
        without_stretch = raw.get("text_without_stretch")
        if per_muscle and without_stretch is None:
            problems.append(
                f"{where}: per-muscle task needs text_without_stretch for muscles the atlas gives no stretch"
            )
        if without_stretch is not None:
            if not per_muscle:
                problems.append(f"{where}: text_without_stretch only applies to per_muscle tasks")
            _check_placeholders(
                f"{where}/text_without_stretch",
                without_stretch,
                WITHOUT_STRETCH_PLACEHOLDERS - not_here,
                problems,
            )
        rule = Rule(
            id=f"AFT-{template_id}-{raw['id']}".upper().replace("_", "-"),
            version=document["version"],
            title=raw["text"]["en"].split(".")[0],
            basis=raw["basis"]["text"],
            sources=tuple(sources.get(key, key) for key in raw["basis"]["sources"]),
        )
        tasks.append(
            TaskTemplate(
                id=raw["id"],
                kind=raw["kind"],
                first_day=first_day,
                last_day=last_day,
                when=when,
                article_ids=tuple(raw["articles"]),
                text=dict(raw["text"]),
                rule=rule,
                per_muscle=per_muscle,
                text_without_stretch=dict(without_stretch) if without_stretch else None,
            )
        )

    tasks_by_id = {task.id: task for task in tasks}
    reminders: list[ReminderTemplate] = []
    seen_reminders: set[str] = set()
    for raw in document["reminders"]:
        where = f"reminders/{raw['id']}"
        if raw["id"] in seen_reminders:
            problems.append(f"{where}: duplicate reminder id")
        seen_reminders.add(raw["id"])
        day = offsets.resolve(raw["day"])
        required = tasks_by_id.get(raw["requires_task"])
        if required is None:
            problems.append(
                f"{where}: requires unknown task {raw['requires_task']!r}; known {sorted(tasks_by_id)}"
            )
        elif not required.on_day(day):
            problems.append(
                f"{where}: day {day} is outside task {required.id!r} days {required.first_day}-{required.last_day}"
            )
        _check_placeholders(f"{where}/text", raw["text"], REMINDER_PLACEHOLDERS, problems)
        reminders.append(
            ReminderTemplate(
                id=raw["id"],
                day=day,
                slot=raw["slot"],
                kind=raw["kind"],
                requires_task=raw["requires_task"],
                text=dict(raw["text"]),
            )
        )

    if problems:
        raise TemplateError(f"{origin}: " + "; ".join(problems))
    return PlanTemplate(
        id=template_id,
        version=document["version"],
        title=document["title"],
        offsets=offsets,
        sources=sources,
        conditions=conditions,
        labels=document["labels"],
        tasks=tuple(tasks),
        reminders=tuple(reminders),
    )


def available_templates() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in TEMPLATE_DIR.glob("*.yaml")))


@cache
def load_template(name: str = "default") -> PlanTemplate:
    """The shipped template ``data/templates/<name>.yaml``, validated and cached."""
    if name not in available_templates():
        raise KeyError(f"unknown aftercare template {name!r}; available {list(available_templates())}")
    path = TEMPLATE_DIR / f"{name}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return build_template(document, origin=path.name)
