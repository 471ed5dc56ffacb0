"""What the aftercare pages show of a stored plan: today, the days grouped, warning signs, articles, muscles.

Read-only: `plan_view` turns a stored plan into the page's view, `treated_muscles` names the
muscles in the patient's language, `built_plan` gives the calendar the pure generator's type.
It reads ``services`` (task keys, which tasks are checkable, side labels); ``services`` never
imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import translation

from triggerpoint.aftercare.education import Article, get_article
from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.aftercare.plan import AftercarePlan as BuiltPlan
from triggerpoint.aftercare.services import CHECKABLE_KINDS, SIDE_LABELS, task_key
from triggerpoint.atlas.catalog import PATIENT_LANGUAGES, load_atlas, muscle_name


@dataclass(frozen=True)
class TaskView:
    key: str
    kind: str
    text: str
    checkable: bool
    done: bool
    rule: str = ""
    basis: str = ""


@dataclass(frozen=True)
class DayView:
    number: int
    date: date
    tasks: tuple[TaskView, ...]
    is_today: bool
    is_past: bool

    @property
    def to_do(self) -> tuple[TaskView, ...]:
        return tuple(task for task in self.tasks if task.checkable)

    @property
    def notes(self) -> tuple[TaskView, ...]:
        return tuple(task for task in self.tasks if not task.checkable and task.kind != "warning")

    @property
    def done_count(self) -> int:
        return sum(1 for task in self.to_do if task.done)


@dataclass(frozen=True)
class DayGroup:
    """Consecutive days with the same things to do (warnings aside), printed once with a box per day."""

    days: tuple[DayView, ...]

    @property
    def first(self) -> DayView:
        return self.days[0]

    @property
    def last(self) -> DayView:
        return self.days[-1]

    @property
    def to_do(self) -> tuple[TaskView, ...]:
        return self.first.to_do

    @property
    def notes(self) -> tuple[TaskView, ...]:
        return self.first.notes


def group_days(days: tuple[DayView, ...]) -> tuple[DayGroup, ...]:
    groups: list[list[DayView]] = []
    previous = None
    for day in days:
        signature = tuple((task.key, task.text) for task in day.tasks if task.kind != "warning")
        if groups and signature == previous:
            groups[-1].append(day)
        else:
            groups.append([day])
        previous = signature
    return tuple(DayGroup(days=tuple(group)) for group in groups)


@dataclass(frozen=True)
class WarningSign:
    text: str
    until: date
    rule: str = ""
    basis: str = ""


@dataclass(frozen=True)
class PlanView:
    plan: AftercarePlan
    days: tuple[DayView, ...]
    warnings: tuple[WarningSign, ...]
    articles: tuple[Article, ...]
    today: date
    activity_restriction_until: date
    warning_window_until: date
    muscles: tuple[str, ...] = field(default=())  # in the plan's (patient's) language
    staff_muscles: tuple[str, ...] = field(default=())  # English, for staff pages

    @property
    def today_view(self) -> DayView | None:
        return next((day for day in self.days if day.is_today), None)

    @property
    def finished(self) -> bool:
        return bool(self.days) and self.today > self.days[-1].date

    @property
    def warnings_active(self) -> bool:
        return self.today <= self.warning_window_until

    @property
    def day_groups(self) -> tuple[DayGroup, ...]:
        return group_days(self.days)

    @property
    def adherence(self) -> list[AdherenceRow]:
        """One row per checkable task, one cell per plan day: True done, False open, None not that day."""
        rows: dict[str, AdherenceRow] = {}
        for day in self.days:
            for task in day.to_do:
                row = rows.setdefault(task.key, AdherenceRow(task=task, cells=[None] * len(self.days)))
                row.cells[day.number] = task.done
        return list(rows.values())


@dataclass
class AdherenceRow:
    task: TaskView
    cells: list[bool | None]

    @property
    def done(self) -> int:
        return sum(1 for cell in self.cells if cell)

    @property
    def due(self) -> int:
        return sum(1 for cell in self.cells if cell is not None)


def clinic_today(plan: AftercarePlan) -> date:
    return plan.clinic.today()


def plan_view(plan: AftercarePlan, today: date | None = None) -> PlanView:
    today = today or clinic_today(plan)
    checks = {(c.day_number, c.task_key): c.done for c in plan.checks.all()}
    days: list[DayView] = []
    warnings: dict[str, WarningSign] = {}
    for day in plan.days:
        day_date = date.fromisoformat(day["date"])
        tasks = []
        for task in day["tasks"]:
            key = task_key(task)
            tasks.append(
                TaskView(
                    key=key,
                    kind=task["kind"],
                    text=task["text"],
                    checkable=task["kind"] in CHECKABLE_KINDS,
                    done=checks.get((day["day_number"], key), False),
                    rule=task.get("rule", ""),
                    basis=task.get("basis", ""),
                )
            )
            if task["kind"] == "warning":
                # The same warning repeats daily; show it once with the last day it applies.
                warnings[key] = WarningSign(
                    text=task["text"], until=day_date, rule=task.get("rule", ""), basis=task.get("basis", "")
                )
        days.append(
            DayView(
                number=day["day_number"],
                date=day_date,
                tasks=tuple(tasks),
                is_today=day_date == today,
                is_past=day_date < today,
            )
        )
    return PlanView(
        plan=plan,
        days=tuple(days),
        warnings=tuple(warnings.values()),
        articles=tuple(get_article(slug, plan.language) for slug in plan.plan.get("articles", [])),
        today=today,
        activity_restriction_until=date.fromisoformat(plan.plan["activity_restriction_until"]),
        warning_window_until=date.fromisoformat(plan.plan["warning_window_until"]),
        muscles=treated_muscles(plan, plan.language),
        staff_muscles=treated_muscles(plan),
    )


def treated_muscles(plan: AftercarePlan, language: str = "en") -> tuple[str, ...]:
    """Each treated muscle once with its sides ("Upper trapezius (left, right)"), in `language`.

    Patient pages and the PDF pass the plan's language (Spanish names from the atlas's
    muscle_names_es.yaml); staff pages keep English.
    """
    atlas = load_atlas()
    language = language if language in PATIENT_LANGUAGES else "en"
    sides: dict[str, list[str]] = {}
    for site in plan.inputs.get("sites", []):
        sides.setdefault(site["muscle"], []).append(site["side"])
    with translation.override(language):
        return tuple(
            f"{muscle_name(muscle, language) if atlas.has_muscle(muscle) else muscle} "
            f"({', '.join(str(SIDE_LABELS.get(side, side)) for side in sorted(set(s)))})"
            for muscle, s in sides.items()
        )


def built_plan(plan: AftercarePlan) -> BuiltPlan:
    """The stored plan as the pure generator's type (for the calendar)."""
    return BuiltPlan.from_dict(plan.plan)
