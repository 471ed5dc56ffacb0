"""Day-by-day aftercare plans after trigger point injections.

Decides what a patient is told to do on each day after the procedure: which tasks
(ice, heat, the stretches of *their* treated muscles, activity limits, warning signs,
steroid or botulinum-toxin notes, physical therapy) and until when the activity
restriction and the warning window last. The content comes from a clinic-editable
template (`plan_template`), the muscles' stretches and thoracic flag from the atlas,
the injectates' classes from the drug catalogue; this module only selects, dates and
words them. It also turns a plan into reminder send times, because "8 a.m. on day 1"
is a local clock time whose UTC instant moves across daylight-saving changes.

Files: ``schemas`` reads the JSON contract into a ``plan_input.PlanInput``, ``plan_reminders``
computes send times; this module builds the plan.

Pure: no Django, ORM or HTTP. Procedure days are `datetime.date`; only reminders
carry instants (tz-aware UTC).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from triggerpoint.aftercare.plan_input import (
    AtlasCatalog,
    DrugCatalog,
    PlanInput,
    Site,
    _default_atlas,
    _default_drugs,
    _Muscle,
)
from triggerpoint.aftercare.plan_reminders import Reminder, local_time_to_utc, reminder_schedule
from triggerpoint.aftercare.plan_template import (
    SUPPORTED_LANGUAGES,
    PlanTemplate,
    TaskTemplate,
    load_template,
)
from triggerpoint.aftercare.schemas import parse_plan_request
from triggerpoint.atlas.catalog import muscle_name, stretch_for_patient
from triggerpoint.core.choices import SIDES
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup import windows  # called as windows.load_windows(): one table, replaceable in tests

__all__ = [
    "AftercarePlan", "PlanDay", "PlanInput", "PlannedReminder", "Reminder", "Site", "Task", "build_plan",
    "local_time_to_utc", "parse_plan_request", "reminder_schedule",
]

# --- output ---


@dataclass(frozen=True)
class Task:
    id: str
    kind: str
    text: str
    article_ids: tuple[str, ...] = ()
    muscle: str | None = None
    sides: tuple[str, ...] = ()
    rule: str = ""
    basis: str = ""

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "articles": list(self.article_ids),
        }
        if self.muscle is not None:
            result["muscle"] = self.muscle
            result["sides"] = list(self.sides)
        result["rule"] = self.rule
        result["basis"] = self.basis
        return result


@dataclass(frozen=True)
class PlanDay:
    date: date
    day_number: int
    tasks: tuple[Task, ...]

    def task_ids(self) -> tuple[str, ...]:
        return tuple(task.id for task in self.tasks)


@dataclass(frozen=True)
class PlannedReminder:
    """A reminder pinned to a local day and slot; `reminder_schedule` turns it into a UTC instant."""

    id: str
    date: date
    day_number: int
    slot: str
    kind: str
    text: str


@dataclass(frozen=True)
class AftercarePlan:
    procedure_date: date
    days: tuple[PlanDay, ...]
    activity_restriction_until: date
    warning_window_until: date
    template_id: str
    template_version: int
    language: str
    article_ids: tuple[str, ...]
    reminders: tuple[PlannedReminder, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """A content hash of what the plan asks for and when (independent of language and wording).

        Identical inputs give identical fingerprints, even for two patients, so this is *not*
        an identity: reminders and stored plans must be keyed by the stored plan's own id.
        """
        content = {
            "template": [self.template_id, self.template_version],
            "procedure_date": self.procedure_date.isoformat(),
            "days": [
                [day.day_number, [[t.id, t.muscle, list(t.sides)] for t in day.tasks]] for day in self.days
            ],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:20]

    def day(self, day_number: int) -> PlanDay:
        return self.days[day_number]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AftercarePlan:
        """Rebuild a plan from its stored `as_dict()` form (reminders are not part of it)."""
        return cls(
            procedure_date=date.fromisoformat(data["procedure_date"]),
            days=tuple(
                PlanDay(
                    date=date.fromisoformat(day["date"]),
                    day_number=day["day_number"],
                    tasks=tuple(
                        Task(
                            id=task["id"],
                            kind=task["kind"],
                            text=task["text"],
                            article_ids=tuple(task.get("articles", ())),
                            muscle=task.get("muscle"),
                            sides=tuple(task.get("sides", ())),
                            rule=task.get("rule", ""),
                            basis=task.get("basis", ""),
                        )
                        for task in day["tasks"]
                    ),
                )
                for day in data["days"]
            ),
            activity_restriction_until=date.fromisoformat(data["activity_restriction_until"]),
            warning_window_until=date.fromisoformat(data["warning_window_until"]),
            template_id=data["template"]["id"],
            template_version=data["template"]["version"],
            language=data["language"],
            article_ids=tuple(data.get("articles", ())),
        )

    def as_dict(self) -> dict[str, Any]:
        """The ``aftercare/plan`` contract shape (with added fields)."""
        return {
            "days": [
                {
                    "date": day.date.isoformat(),
                    "day_number": day.day_number,
                    "tasks": [task.as_dict() for task in day.tasks],
                }
                for day in self.days
            ],
            "activity_restriction_until": self.activity_restriction_until.isoformat(),
            "warning_window_until": self.warning_window_until.isoformat(),
            "procedure_date": self.procedure_date.isoformat(),
            "template": {"id": self.template_id, "version": self.template_version},
            "language": self.language,
            "articles": list(self.article_ids),
        }


# --- building ---


def _join(items: list[str], template: PlanTemplate, language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {template.label('list_and', language)} {items[-1]}"


def _warning_window_values() -> dict[str, int]:
    """{fever_days}, {site_days}, {toxin_weeks} from the follow-up warning-window table (one source)."""
    return windows.load_windows().placeholders()


def _clinic_phrase(inp: PlanInput, template: PlanTemplate, language: str) -> str:
    if inp.clinic_phone and inp.clinic_name:
        return template.label("clinic_with_phone", language).format(
            name=inp.clinic_name, phone=inp.clinic_phone
        )
    if inp.clinic_phone:
        return template.label("clinic_phone_only", language).format(phone=inp.clinic_phone)
    if inp.clinic_name:
        return inp.clinic_name
    return template.label("clinic_generic", language)


def _sides_phrase(sides: Iterable[str], template: PlanTemplate, language: str) -> str:
    distinct = set(sides)
    key = "both" if distinct == set(SIDES) else distinct.pop()
    return template.side_label(key, language)


def _in_sentence(name: str) -> str:
    """A catalogue name ("Upper trapezius") as written mid-sentence, keeping acronyms ("TFL") intact."""
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _patient_name(muscle: _Muscle, language: str) -> str:
    """The muscle's name in the patient's language (atlas/data/muscle_names_es.yaml for Spanish)."""
    if language == "en":
        return muscle.name
    return muscle_name(muscle.id, language)


def _stretches_phrase(muscle: _Muscle, language: str = "en") -> str:
    """Each stretch as "Name: instructions." in the patient's language (atlas/data/stretches_es.yaml)."""
    if language != "en":
        stretches = tuple(stretch_for_patient(stretch, language) for stretch in muscle.stretches)
    else:
        stretches = muscle.stretches
    parts = []
    for stretch in stretches:
        instructions = stretch.instructions.strip()
        if instructions and instructions[-1] not in ".!?":
            instructions += "."
        parts.append(f"{stretch.name}: {instructions}")
    return " ".join(parts)


def _check_known(
    inp: PlanInput, atlas: AtlasCatalog, drugs: DrugCatalog, template: PlanTemplate, language: str
) -> None:
    """Refuse a `PlanInput` built by hand with facts the catalogues do not know."""
    problems: list[str] = []
    if language not in SUPPORTED_LANGUAGES:
        problems.append(f"language: expected one of {list(SUPPORTED_LANGUAGES)}, got {language!r}")
    if not inp.sites:
        problems.append("sites: at least one treated site is required")
    for site in inp.sites:
        if not atlas.has_muscle(site.muscle):
            problems.append(f"unknown muscle {site.muscle!r}; allowed {sorted(atlas.muscles)}")
        if site.side not in SIDES:
            problems.append(f"site {site.muscle}: side must be one of {list(SIDES)}, got {site.side!r}")
    unknown_drugs = [drug_id for drug_id in inp.injectates if drug_id not in drugs.ids]
    if unknown_drugs:
        problems.append(f"unknown drug ids {unknown_drugs}; allowed {sorted(drugs.ids)}")
    unknown_conditions = sorted(inp.conditions - set(template.conditions))
    if unknown_conditions:
        problems.append(f"unknown conditions {unknown_conditions}; allowed {sorted(template.conditions)}")
    if problems:
        raise RuleInputError(problems)


def build_plan(
    inp: PlanInput,
    atlas: AtlasCatalog | None = None,
    drugs: DrugCatalog | None = None,
    template: PlanTemplate | None = None,
    language: str | None = None,
) -> AftercarePlan:
    """Build the dated plan for one procedure from a template.

    Day 0 is the procedure date. Per-muscle tasks (stretches) appear once per distinct
    muscle, naming the treated sides. Conditional tasks appear only when their `when`
    facts hold. ``language`` defaults to the input's language.
    """
    atlas = atlas if atlas is not None else _default_atlas()
    drugs = drugs if drugs is not None else _default_drugs()
    template = template if template is not None else load_template()
    language = language if language is not None else inp.language
    _check_known(inp, atlas, drugs, template, language)

    sides_by_muscle: dict[str, list[str]] = {}
    for site in inp.sites:
        sides_by_muscle.setdefault(site.muscle, [])
        if site.side not in sides_by_muscle[site.muscle]:
            sides_by_muscle[site.muscle].append(site.side)
    muscles = {muscle_id: atlas.muscle(muscle_id) for muscle_id in sides_by_muscle}
    risk_muscles = [muscle for muscle in muscles.values() if muscle.pneumothorax_risk]
    facts = {
        "injectate_classes": frozenset(drugs.get(drug_id).drug_class for drug_id in inp.injectates),
        "conditions": inp.conditions,
        "pneumothorax_risk_site": bool(risk_muscles),
        "physical_therapy_planned": inp.physical_therapy_planned,
    }
    values = {
        "clinic": _clinic_phrase(inp, template, language),
        "risk_muscles": _join([_in_sentence(_patient_name(m, language)) for m in risk_muscles], template, language),
        **_warning_window_values(),
    }
    applicable = [task for task in template.tasks if task.when.holds(**facts)]

    def render(task: TaskTemplate) -> list[Task]:
        common = {
            "kind": task.kind,
            "article_ids": task.article_ids,
            "rule": task.rule.id,
            "basis": task.rule.basis_text(),
        }
        if not task.per_muscle:
            return [Task(id=task.id, text=task.text[language].format_map(values), **common)]
        rendered = []
        for muscle_id, sides in sides_by_muscle.items():
            muscle = muscles[muscle_id]
            muscle_values = {
                **values,
                "muscle_name": _in_sentence(_patient_name(muscle, language)),
                "sides": _sides_phrase(sides, template, language),
                "stretches": _stretches_phrase(muscle, language),
            }
            text = (
                task.text
                if muscle.stretches or task.text_without_stretch is None
                else task.text_without_stretch
            )
            rendered.append(
                Task(
                    id=task.id,
                    text=text[language].format_map(muscle_values).strip(),
                    muscle=muscle_id,
                    sides=tuple(side for side in SIDES if side in sides),
                    **common,
                )
            )
        return rendered

    rendered_by_task = {task.id: render(task) for task in applicable}
    days = tuple(
        PlanDay(
            date=inp.procedure_date + timedelta(days=day_number),
            day_number=day_number,
            tasks=tuple(
                t for task in applicable if task.on_day(day_number) for t in rendered_by_task[task.id]
            ),
        )
        for day_number in range(template.last_day + 1)
    )
    article_ids: list[str] = []
    for day in days:
        for task in day.tasks:
            article_ids.extend(a for a in task.article_ids if a not in article_ids)
    reminders = tuple(
        PlannedReminder(
            id=reminder.id,
            date=days[reminder.day].date,
            day_number=reminder.day,
            slot=reminder.slot,
            kind=reminder.kind,
            text=reminder.text[language].format_map(values),
        )
        for reminder in template.reminders
        if reminder.requires_task in days[reminder.day].task_ids()
    )
    return AftercarePlan(
        procedure_date=inp.procedure_date,
        days=days,
        activity_restriction_until=inp.procedure_date + timedelta(days=template.offsets.activity_restriction),
        warning_window_until=inp.procedure_date + timedelta(days=template.offsets.warning_window),
        template_id=template.id,
        template_version=template.version,
        language=language,
        article_ids=tuple(article_ids),
        reminders=reminders,
    )
