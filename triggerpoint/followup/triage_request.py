"""Reading the `followup/triage` JSON contract into a `TriageInput`, listing every problem at once.

Dates are checked against the plausible clinical range (`core.plausible`) before any
conversion to UTC. Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core import plausible
from triggerpoint.core.choices import SIDES
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.content import SymptomCatalog, load_symptoms
from triggerpoint.followup.temperature import (
    UNIT_SPELLINGS,
    Temperature,
    describe_range,
    is_plausible,
    normalise_unit,
    to_decimal,
)
from triggerpoint.followup.triage_policy import DEFAULT_THRESHOLDS, TriageThresholds

PAIN_SCALE = (0, 10)


MAX_FREE_TEXT_CHARS = 4000


REQUEST_FIELDS = (
    "procedure_date",
    "procedure_at",
    "reported_at",
    "sites",
    "symptoms",
    "temperature",
    "pain_now",
    "free_text",
    "botulinum_toxin",
)


class MuscleCatalogue(Protocol):
    """What triage needs from the atlas (``triggerpoint.atlas.catalog.Atlas``)."""

    def has_muscle(self, muscle_id: str) -> bool: ...

    def muscle(self, muscle_id: str) -> Any: ...


def _default_atlas() -> MuscleCatalogue:
    return load_atlas()


@dataclass(frozen=True)
class Site:
    """One treated site: one muscle on one side."""

    muscle: str
    side: str


@dataclass(frozen=True)
class TriageInput:
    """A validated check-in. Build it with parse_triage_request, or directly from typed values."""

    procedure_date: date
    reported_at: datetime
    symptoms: frozenset[str] = frozenset()
    sites: tuple[Site, ...] = ()
    temperature: Temperature | None = None
    pain_now: int | None = None
    free_text: str = ""
    procedure_at: datetime | None = None
    botulinum_toxin: bool | None = None


def _parse_date(raw: object, name: str, problems: list[str]) -> date | None:
    if raw is None:
        problems.append(f"{name}: required (YYYY-MM-DD)")
        return None
    if not isinstance(raw, str):
        problems.append(f"{name}: must be a date string YYYY-MM-DD, got {raw!r}")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not a date (YYYY-MM-DD)")
        return None


def _parse_datetime(raw: object, name: str, problems: list[str]) -> datetime | None:
    if not isinstance(raw, str):
        problems.append(f"{name}: must be an ISO 8601 datetime string with a UTC offset, got {raw!r}")
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not an ISO 8601 datetime")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problems.append(
            f"{name}: {raw!r} has no UTC offset; send it with the clinic's offset (e.g. 2025-03-04T09:30:00-05:00) "
            f"— a missing zone is not assumed to be UTC because that can shift the day after the procedure"
        )
        return None
    return value


def _parse_temperature(raw: object, thresholds: TriageThresholds, problems: list[str]) -> Temperature | None:
    if not isinstance(raw, Mapping):
        problems.append('temperature: must be an object {"value": number, "unit": "F" | "C"}')
        return None
    unknown = sorted(set(raw) - {"value", "unit"})
    if unknown:
        problems.append(f"temperature: unknown field(s) {unknown}; allowed: ['unit', 'value']")
    value = to_decimal(raw.get("value")) if not isinstance(raw.get("value"), str) else None
    unit = normalise_unit(raw.get("unit"))
    if value is None:
        problems.append(f"temperature.value: must be a number, got {raw.get('value')!r}")
    if unit is None:
        problems.append(
            f"temperature.unit: {raw.get('unit')!r} is not a temperature unit; allowed: {sorted(UNIT_SPELLINGS)}"
        )
    if value is None or unit is None:
        return None
    reading = Temperature(value, unit)
    if not is_plausible(reading, thresholds.plausible_temperature_f):
        problems.append(
            f"temperature: {value} °{unit} is not a plausible body temperature (expected "
            f"{describe_range(thresholds.plausible_temperature_f)}); please check the reading and the unit — "
            f"it is not guessed"
        )
        return None
    return reading


def _parse_sites(raw: object, atlas: MuscleCatalogue | None, problems: list[str]) -> tuple[Site, ...]:
    if not isinstance(raw, list):
        problems.append('sites: must be a list of {"muscle": "<muscle id>", "side": "left" | "right"}')
        return ()
    sites = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            problems.append(f'sites[{index}]: must be an object {{"muscle", "side"}}')
            continue
        unknown = sorted(set(entry) - {"muscle", "side"})
        if unknown:
            problems.append(f"sites[{index}]: unknown field(s) {unknown}; allowed: ['muscle', 'side']")
        muscle, side = entry.get("muscle"), entry.get("side")
        ok = True
        if side not in SIDES:
            problems.append(f"sites[{index}].side: {side!r} is not a side; allowed: {list(SIDES)}")
            ok = False
        if not isinstance(muscle, str) or not muscle:
            problems.append(f"sites[{index}].muscle: required muscle id")
            ok = False
        else:
            atlas = atlas or _default_atlas()
            if not atlas.has_muscle(muscle):
                allowed = sorted(getattr(atlas, "muscles", {}))
                problems.append(f"sites[{index}].muscle: unknown muscle {muscle!r}; allowed: {allowed}")
                ok = False
        if ok:
            sites.append(Site(muscle=muscle, side=side))
    return tuple(sites)


def _parse_symptoms(raw: object, catalog: SymptomCatalog, problems: list[str]) -> frozenset[str]:
    if raw is None:
        problems.append(f"symptoms: required (a list, may be empty); allowed ids: {list(catalog.ids)}")
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        problems.append(f"symptoms: must be a list of symptom ids; allowed ids: {list(catalog.ids)}")
        return frozenset()
    unknown = [item for item in raw if item not in catalog.by_id]
    if unknown:
        problems.append(f"symptoms: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")
    return frozenset(item for item in raw if item in catalog.by_id)


def _parse_pain(raw: object, problems: list[str]) -> int | None:
    low, high = PAIN_SCALE
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw) or not low <= raw <= high:
        problems.append(f"pain_now: must be a whole number from {low} to {high}, got {raw!r}")
        return None
    return int(raw)


def parse_triage_request(
    payload: object,
    *,
    atlas: MuscleCatalogue | None = None,
    symptoms: SymptomCatalog | None = None,
    thresholds: TriageThresholds = DEFAULT_THRESHOLDS,
) -> TriageInput:
    """Turn the JSON body of ``POST /api/v1/followup/triage`` into a TriageInput.

    Raises RuleInputError listing every problem at once: missing or malformed dates, a
    naive datetime, a report dated before the procedure, unknown fields, unknown symptom
    ids (with the allowed list), unknown muscles or sides, a bad unit, an implausible
    temperature, a pain score outside 0–10. ``null`` optional fields count as absent.
    The atlas is loaded only when sites are given.
    """
    catalog = symptoms or load_symptoms()
    if not isinstance(payload, Mapping):
        raise RuleInputError("the check-in must be a JSON object")
    problems: list[str] = []
    unknown = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown:
        problems.append(f"unknown field(s) {unknown}; allowed: {list(REQUEST_FIELDS)}")

    procedure_date = _parse_date(payload.get("procedure_date"), "procedure_date", problems)
    reported_at = None
    if payload.get("reported_at") is None:
        problems.append("reported_at: required (ISO 8601 datetime with a UTC offset)")
    else:
        reported_at = _parse_datetime(payload["reported_at"], "reported_at", problems)
    procedure_at = None
    if payload.get("procedure_at") is not None:
        procedure_at = _parse_datetime(payload["procedure_at"], "procedure_at", problems)
    # Years such as 9999 parse but overflow once converted to UTC: refuse them with the field named.
    implausible: list[str] = []
    for name, kind, value in (("procedure_date", "scheduled", procedure_date), ("reported_at", "recorded", reported_at),
                              ("procedure_at", "scheduled", procedure_at)):
        plausible.check(kind, value, f"{name}:", implausible)
    problems.extend(implausible)

    symptom_ids = _parse_symptoms(payload.get("symptoms"), catalog, problems)
    sites: tuple[Site, ...] = ()
    if payload.get("sites") is not None:
        sites = _parse_sites(payload["sites"], atlas, problems)
    temperature = None
    if payload.get("temperature") is not None:
        temperature = _parse_temperature(payload["temperature"], thresholds, problems)
    pain_now = None
    if payload.get("pain_now") is not None:
        pain_now = _parse_pain(payload["pain_now"], problems)
    free_text = payload.get("free_text") or ""
    if not isinstance(free_text, str):
        problems.append("free_text: must be a string")
        free_text = ""
    elif len(free_text) > MAX_FREE_TEXT_CHARS:
        problems.append(f"free_text: longer than {MAX_FREE_TEXT_CHARS} characters")

    botulinum_toxin = payload.get("botulinum_toxin")
    if botulinum_toxin is not None and not isinstance(botulinum_toxin, bool):
        problems.append(f"botulinum_toxin: must be true, false or null (unknown), got {botulinum_toxin!r}")
        botulinum_toxin = None

    if procedure_date and reported_at and not implausible:
        problems.extend(timing_problems(procedure_date, reported_at, procedure_at))
    if problems:
        raise RuleInputError(problems)
    assert procedure_date is not None and reported_at is not None  # noqa: S101 - guaranteed by the checks above
    return TriageInput(
        procedure_date=procedure_date,
        reported_at=reported_at,
        symptoms=symptom_ids,
        sites=sites,
        temperature=temperature,
        pain_now=pain_now,
        free_text=free_text,
        procedure_at=procedure_at,
        botulinum_toxin=botulinum_toxin,
    )


def timing_problems(procedure_date: date, reported_at: datetime, procedure_at: datetime | None) -> list[str]:
    problems = []
    if reported_at.tzinfo is None or reported_at.utcoffset() is None:
        problems.append("reported_at: must carry a UTC offset")
        return problems
    if reported_at.date() < procedure_date:
        problems.append(
            f"reported_at: {reported_at.isoformat()} is before the procedure date {procedure_date.isoformat()}"
        )
    if procedure_at is not None:
        if procedure_at.tzinfo is None or procedure_at.utcoffset() is None:
            problems.append("procedure_at: must carry a UTC offset")
            return problems
        if procedure_at.date() != procedure_date:
            problems.append(
                f"procedure_at: {procedure_at.isoformat()} is not on procedure_date {procedure_date.isoformat()} "
                f"(send it in the clinic's local offset)"
            )
        if reported_at < procedure_at:
            problems.append(f"reported_at: {reported_at.isoformat()} is before procedure_at {procedure_at.isoformat()}")
    return problems

