"""Day-by-day aftercare plans after trigger point injections.

Decides what a patient is told to do on each day after the procedure: which tasks
(ice, heat, the stretches of *their* treated muscles, activity limits, warning signs,
steroid or botulinum-toxin notes, physical therapy) and until when the activity
restriction and the warning window last. The content comes from a clinic-editable
template (`plan_template`), the muscles' stretches and thoracic flag from the atlas,
the injectates' classes from the drug catalogue; this module only selects, dates and
words them. It also turns a plan into reminder send times, because "8 a.m. on day 1"
is a local clock time whose UTC instant moves across daylight-saving changes.

Pure: no Django, ORM or HTTP. Procedure days are `datetime.date`; only reminders
carry instants (tz-aware UTC).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from triggerpoint.aftercare.plan_template import (
    SUPPORTED_LANGUAGES,
    PlanTemplate,
    TaskTemplate,
    load_template,
)
from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError

SIDES = ("left", "right")
REQUEST_FIELDS = (
    "procedure_date",
    "sites",
    "injectates",
    "patient",
    "physical_therapy_planned",
    "clinic",
    "language",
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- the catalogues this module reads (structural types, so tests and callers can pass their own) ---


class _Stretch(Protocol):
    id: str
    name: str
    instructions: str


class _Muscle(Protocol):
    id: str
    name: str
    pneumothorax_risk: bool
    stretches: tuple[_Stretch, ...]


class AtlasCatalog(Protocol):
    muscles: Mapping[str, Any]

    def muscle(self, muscle_id: str) -> _Muscle: ...

    def has_muscle(self, muscle_id: str) -> bool: ...


class _Drug(Protocol):
    id: str
    name: str
    drug_class: str


class DrugCatalog(Protocol):
    @property
    def ids(self) -> tuple[str, ...]: ...

    def get(self, drug_id: str) -> _Drug: ...

    def resolve(self, name_or_synonym: str) -> _Drug | None: ...


def _default_atlas() -> AtlasCatalog:
    from triggerpoint.atlas.catalog import load_atlas

    return load_atlas()


def _default_drugs() -> DrugCatalog:
    from triggerpoint.procedures.drugs import load_drugs

    return load_drugs()


# --- input ---


@dataclass(frozen=True)
class Site:
    """One treated muscle on one side (bilateral treatment is two sites)."""

    muscle: str
    side: str


@dataclass(frozen=True)
class PlanInput:
    procedure_date: date
    sites: tuple[Site, ...]
    injectates: tuple[str, ...]  # drug ids, each once, in the order given
    conditions: frozenset[str] = frozenset()
    physical_therapy_planned: bool = False
    clinic_name: str | None = None
    clinic_phone: str | None = None
    language: str = "en"


def _parse_date(value: Any, where: str, problems: list[str]) -> date | None:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        problems.append(f"{where}: expected a date as YYYY-MM-DD, got {value!r}")
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not a real calendar date")
        return None
    implausible = plausible.problem("scheduled", parsed)
    if implausible:  # a plan runs weeks past the date: year 9999 would overflow
        problems.append(f"{where}: {implausible}")
        return None
    return parsed


def _parse_sites(value: Any, atlas: AtlasCatalog, problems: list[str]) -> tuple[Site, ...]:
    if not isinstance(value, list) or not value:
        problems.append("sites: expected a non-empty list of {muscle, side}")
        return ()
    sites: list[Site] = []
    for index, raw in enumerate(value):
        where = f"sites[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected an object with muscle and side")
            continue
        extra = sorted(set(raw) - {"muscle", "side"})
        if extra:
            problems.append(f"{where}: unknown fields {extra}; allowed ['muscle', 'side']")
        muscle, side = raw.get("muscle"), raw.get("side")
        ok = True
        if not isinstance(muscle, str) or not muscle:
            problems.append(f"{where}.muscle: required")
            ok = False
        elif not atlas.has_muscle(muscle):
            problems.append(f"{where}.muscle: unknown muscle {muscle!r}; allowed {sorted(atlas.muscles)}")
            ok = False
        if side not in SIDES:
            problems.append(f"{where}.side: expected one of {list(SIDES)}, got {side!r}")
            ok = False
        if ok:
            site = Site(muscle=muscle, side=side)
            if site not in sites:
                sites.append(site)
    return tuple(sites)


def _parse_injectates(value: Any, drugs: DrugCatalog, problems: list[str]) -> tuple[str, ...]:
    # An empty list is a real answer (dry needling injects nothing); a missing key is not.
    if not isinstance(value, list):
        problems.append("injectates: expected a list of {drug} (empty for dry needling)")
        return ()
    drug_ids: list[str] = []
    for index, raw in enumerate(value):
        where = f"injectates[{index}]"
        name = raw.get("drug") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.drug: required (a drug id or name)")
            continue
        drug = drugs.resolve(name)
        if drug is None:
            problems.append(f"{where}.drug: unknown drug {name!r}; allowed {sorted(drugs.ids)}")
            continue
        if drug.id not in drug_ids:
            drug_ids.append(drug.id)
    return tuple(drug_ids)


def _parse_conditions(value: Any, template: PlanTemplate, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, dict):
        problems.append("patient: expected an object with conditions (a list, empty if none)")
        return frozenset()
    conditions = value.get("conditions")
    if not isinstance(conditions, list) or not all(isinstance(item, str) for item in conditions):
        problems.append("patient.conditions: expected a list of condition ids (empty if none)")
        return frozenset()
    # An unknown id is refused, not ignored: a misspelt "diabetis" must not silently drop the glucose note.
    unknown = sorted(set(conditions) - set(template.conditions))
    if unknown:
        problems.append(f"patient.conditions: unknown {unknown}; allowed {sorted(template.conditions)}")
    return frozenset(conditions) & frozenset(template.conditions)


def _parse_clinic(value: Any, problems: list[str]) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"name", "phone"}:
        problems.append("clinic: expected an object with optional name and phone")
        return None, None
    name, phone = value.get("name"), value.get("phone")
    for key, item in (("name", name), ("phone", phone)):
        if item is not None and (not isinstance(item, str) or not item.strip()):
            problems.append(f"clinic.{key}: expected non-empty text")
    return (name if isinstance(name, str) else None), (phone if isinstance(phone, str) else None)


def parse_plan_request(
    payload: Any,
    *,
    atlas: AtlasCatalog | None = None,
    drugs: DrugCatalog | None = None,
    template: PlanTemplate | None = None,
) -> PlanInput:
    """Validate an ``aftercare/plan`` request body and return its typed input.

    Raises `RuleInputError` listing every problem (missing fields, bad dates, unknown
    muscles, drugs or conditions with their allowed values). ``physical_therapy_planned``
    (default false), ``clinic`` {name, phone} and ``language`` (default "en") are optional
    additions to the contract.
    """
    if not isinstance(payload, dict):
        raise RuleInputError("expected a JSON object")
    atlas = atlas if atlas is not None else _default_atlas()
    drugs = drugs if drugs is not None else _default_drugs()
    template = template if template is not None else load_template()
    problems: list[str] = []

    unknown_fields = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown_fields:
        problems.append(f"unknown fields {unknown_fields}; allowed {list(REQUEST_FIELDS)}")
    for required in ("procedure_date", "sites", "injectates", "patient"):
        if required not in payload:
            problems.append(f"{required}: required")

    procedure_date = (
        _parse_date(payload.get("procedure_date"), "procedure_date", problems)
        if ("procedure_date" in payload)
        else None
    )
    sites = _parse_sites(payload.get("sites"), atlas, problems) if "sites" in payload else ()
    injectates = (
        _parse_injectates(payload.get("injectates"), drugs, problems) if "injectates" in payload else ()
    )
    conditions = (
        _parse_conditions(payload.get("patient"), template, problems) if "patient" in payload else frozenset()
    )

    physical_therapy_planned = payload.get("physical_therapy_planned", False)
    if not isinstance(physical_therapy_planned, bool):
        problems.append(f"physical_therapy_planned: expected true or false, got {physical_therapy_planned!r}")
    clinic_name, clinic_phone = _parse_clinic(payload.get("clinic"), problems)
    language = payload.get("language", "en")
    if language not in SUPPORTED_LANGUAGES:
        problems.append(f"language: expected one of {list(SUPPORTED_LANGUAGES)}, got {language!r}")

    if problems:
        raise RuleInputError(problems)
    assert procedure_date is not None  # guaranteed: a missing or bad date was a problem above
    return PlanInput(
        procedure_date=procedure_date,
        sites=sites,
        injectates=injectates,
        conditions=conditions,
        physical_therapy_planned=physical_therapy_planned,
        clinic_name=clinic_name,
        clinic_phone=clinic_phone,
        language=language,
    )


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
    from triggerpoint.followup.windows import load_windows

    return load_windows().placeholders()


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
    from triggerpoint.atlas.catalog import muscle_name

    return muscle_name(muscle.id, language)


def _stretches_phrase(muscle: _Muscle, language: str = "en") -> str:
    """Each stretch as "Name: instructions." in the patient's language (atlas/data/stretches_es.yaml)."""
    if language != "en":
        from triggerpoint.atlas.catalog import stretch_for_patient

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


# --- reminders at local clock times ---


@dataclass(frozen=True)
class Reminder:
    key: str
    send_at_utc: datetime
    kind: str
    text: str
    reminder_id: str = ""
    local_date: date | None = None
    slot: str = ""


def local_time_to_utc(day: date, clock: time, tz: tzinfo) -> datetime:
    """The UTC instant when the clock in `tz` shows `clock` on `day`.

    Across DST the offset of that *day* is used. A clock time that does not exist
    (inside a spring-forward gap) lands just after the gap, e.g. 02:30 becomes 03:30
    daylight time; a time that occurs twice (fall-back) uses its first occurrence.
    Both follow PEP 495 with ``fold=0``.
    """
    if clock.tzinfo is not None:
        raise ValueError("reminder clock times are local wall times and must be naive")
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def reminder_schedule(
    plan: AftercarePlan,
    tz: tzinfo,
    morning: time = time(8, 0),
    evening: time = time(18, 0),
    *,
    plan_key: str,
) -> list[Reminder]:
    """The plan's reminders with their UTC send instants, earliest first.

    `plan_key` is the stored plan's own identifier (e.g. its UUID): a content hash is
    not enough, as two patients with the same procedure date and muscles would collide
    and one of them would lose reminders to the idempotency check. The key of each
    reminder is stable for the same plan, reminder and local date, so regenerating
    the schedule never sends twice.
    """
    if not plan_key or not plan_key.strip():
        raise RuleInputError("plan_key: required (the stored plan's id)")
    clocks = {"morning": morning, "evening": evening}
    reminders = [
        Reminder(
            key=f"aftercare:{plan_key}:{planned.id}:{planned.date.isoformat()}",
            send_at_utc=local_time_to_utc(planned.date, clocks[planned.slot], tz),
            kind=planned.kind,
            text=planned.text,
            reminder_id=planned.id,
            local_date=planned.date,
            slot=planned.slot,
        )
        for planned in plan.reminders
    ]
    return sorted(reminders, key=lambda reminder: (reminder.send_at_utc, reminder.key))
