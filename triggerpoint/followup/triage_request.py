"""The `followup/triage` JSON contract (a typed `core.contracts.Contract`), read into a `TriageInput`.

`TriageRequestIn` is both what `parse_triage_request` reads (check-ins answered on the pages,
the portal, by staff) and the Ninja body of ``POST /api/v1/followup/triage``, so
``/api/v1/openapi.json`` publishes the same contract the calculator checks. Every problem is
listed at once, in the order the fields are read (unknown fields first; the dates' plausibility
after the dates; the timing between them last), with the sentences the API has always given.
Dates are checked against the plausible clinical range (`core.plausible`) before any
conversion to UTC. Pure module: pydantic, no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import BeforeValidator, ValidationInfo

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core import plausible
from triggerpoint.core.choices import SIDES
from triggerpoint.core.contracts import Contract, catalogue, checked, parse, problem
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


def _date(raw: Any) -> date:
    if raw is None:
        raise problem("{where}: required (YYYY-MM-DD)")
    if not isinstance(raw, str):
        raise problem(f"{{where}}: must be a date string YYYY-MM-DD, got {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise problem(f"{{where}}: {raw!r} is not a date (YYYY-MM-DD)") from None


def _datetime(raw: Any) -> datetime:
    if raw is None:  # only reported_at can arrive here as None (procedure_at's null is "not sent")
        raise problem("{where}: required (ISO 8601 datetime with a UTC offset)")
    if not isinstance(raw, str):
        raise problem(f"{{where}}: must be an ISO 8601 datetime string with a UTC offset, got {raw!r}")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise problem(f"{{where}}: {raw!r} is not an ISO 8601 datetime") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise problem(
            f"{{where}}: {raw!r} has no UTC offset; send it with the clinic's offset (e.g. 2025-03-04T09:30:00-05:00) "
            f"— a missing zone is not assumed to be UTC because that can shift the day after the procedure"
        )
    return value


def _symptoms(raw: Any, info: ValidationInfo) -> frozenset[str]:
    catalog = catalogue(info.context or {}, "symptoms", load_symptoms)
    if raw is None:
        raise problem(f"{{where}}: required (a list, may be empty); allowed ids: {list(catalog.ids)}")
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise problem(f"{{where}}: must be a list of symptom ids; allowed ids: {list(catalog.ids)}")
    unknown = [item for item in raw if item not in catalog.by_id]
    if unknown:
        raise problem(f"{{where}}: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")
    return frozenset(raw)


def _side(raw: Any) -> str:
    if raw not in SIDES:
        raise problem(f"{{where}}: {raw!r} is not a side; allowed: {list(SIDES)}")
    return raw


def _muscle(raw: Any, info: ValidationInfo) -> str:
    if not isinstance(raw, str) or not raw:
        raise problem("{where}: required muscle id")
    atlas = catalogue(info.context or {}, "atlas", _default_atlas)
    if not atlas.has_muscle(raw):
        raise problem(f"{{where}}: unknown muscle {raw!r}; allowed: {sorted(getattr(atlas, 'muscles', {}))}")
    return raw


class TriageSiteIn(Contract):
    """One treated site: one muscle (an atlas id) on one side. The side is read first."""

    not_an_object: ClassVar[str] = '{where}: must be an object {"muscle", "side"}'
    unknown_fields: ClassVar[str] = "{where}: unknown field(s) {unknown}; allowed: {allowed}"

    side: checked(_side, {"type": "string", "enum": list(SIDES)}, str)
    muscle: checked(_muscle, {"type": "string", "description": "an atlas muscle id"}, str)


def _sites(raw: Any) -> list:
    if not isinstance(raw, list):
        raise problem('{where}: must be a list of {"muscle": "<muscle id>", "side": "left" | "right"}')
    return raw


def _reading(raw: Any) -> Decimal:
    value = to_decimal(raw) if not isinstance(raw, str) else None
    if value is None:
        raise problem(f"{{where}}: must be a number, got {raw!r}")
    return value


def _unit(raw: Any) -> str:
    unit = normalise_unit(raw)
    if unit is None:
        raise problem(f"{{where}}: {raw!r} is not a temperature unit; allowed: {sorted(UNIT_SPELLINGS)}")
    return unit


class TriageTemperatureIn(Contract):
    """A temperature reading with its unit; an implausible body temperature is refused, never guessed."""

    not_an_object: ClassVar[str] = '{where}: must be an object {"value": number, "unit": "F" | "C"}'
    unknown_fields: ClassVar[str] = "{where}: unknown field(s) {unknown}; allowed: {allowed}"

    value: checked(_reading, {"type": "number"})
    unit: checked(_unit, {"type": "string", "enum": ["F", "C"]}, str)

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str | tuple[str, str]]:
        if self.value is None or self.unit is None:
            return []
        thresholds = context.get("thresholds") or DEFAULT_THRESHOLDS
        if is_plausible(Temperature(self.value, self.unit), thresholds.plausible_temperature_f):
            return []
        return [
            f"{{where}}: {self.value} °{self.unit} is not a plausible body temperature (expected "
            f"{describe_range(thresholds.plausible_temperature_f)}); please check the reading and the unit — "
            f"it is not guessed"
        ]


def _pain(raw: Any) -> int:
    low, high = PAIN_SCALE
    # math.isfinite first: int() of an infinite or NaN JSON number would raise instead of answering.
    if (isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw != int(raw)
            or not low <= raw <= high):
        raise problem(f"{{where}}: must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _free_text(raw: Any) -> str:
    text = raw or ""
    if not isinstance(text, str):
        raise problem("{where}: must be a string")
    if len(text) > MAX_FREE_TEXT_CHARS:
        raise problem(f"{{where}}: longer than {MAX_FREE_TEXT_CHARS} characters")
    return text


def _toxin(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise problem(f"{{where}}: must be true, false or null (unknown), got {raw!r}")
    return raw


class TriageRequestIn(Contract):
    """One check-in: when the procedure was and the report is, the warning signs, and optionally the treated
    sites, a temperature, pain now, the patient's own words and whether botulinum toxin was given.

    ``null`` in an optional field counts as absent. Field names are the ARCHITECTURE §8 contract's.
    """

    not_an_object: ClassVar[str] = "{where}the check-in must be a JSON object"
    unknown_fields: ClassVar[str] = "{where}unknown field(s) {unknown}; allowed: " + str(list(REQUEST_FIELDS))
    null_is_absent: ClassVar[bool] = True

    procedure_date: checked(_date, {"type": "string", "format": "date"}, date)
    reported_at: checked(_datetime, {"type": "string", "format": "date-time",
                                     "description": "with the clinic's UTC offset; a naive time is refused"}, datetime)
    procedure_at: checked(_datetime, {"type": "string", "format": "date-time",
                                      "description": "optional exact injection time, with UTC offset"},
                          datetime | None) = None
    symptoms: checked(_symptoms, {"type": "array", "items": {"type": "string"},
                                  "description": "ids from GET /api/v1/followup/symptoms"}, frozenset[str])
    sites: Annotated[list[TriageSiteIn], BeforeValidator(_sites)] = ()
    temperature: TriageTemperatureIn = None
    pain_now: checked(_pain, {"type": "integer", "minimum": PAIN_SCALE[0], "maximum": PAIN_SCALE[1]},
                      int | None) = None
    free_text: checked(_free_text, {"type": "string", "maxLength": MAX_FREE_TEXT_CHARS,
                                    "description": "read in English and Spanish"}, str) = ""
    botulinum_toxin: checked(_toxin, {"type": ["boolean", "null"],
                                      "description": "whether the procedure included botulinum toxin; absent or "
                                                     "null = unknown, treated as possibly given (12-week "
                                                     "toxin-spread window)"}, bool | None) = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str | tuple[str, str]]:
        # Years such as 9999 parse but overflow once converted to UTC: refuse them with the field named,
        # right after the dates' own problems; the timing between the dates only when all are plausible.
        implausible: list[str] = []
        for name, kind in (("procedure_date", "scheduled"), ("reported_at", "recorded"), ("procedure_at", "scheduled")):
            plausible.check(kind, getattr(self, name), f"{name}:", implausible)
        listed: list[str | tuple[str, str]] = [("procedure_at", sentence) for sentence in implausible]
        if self.procedure_date and self.reported_at and not implausible:
            listed.extend(timing_problems(self.procedure_date, self.reported_at, self.procedure_at))
        return listed

    def to_input(self) -> TriageInput:
        temperature = self.temperature
        return TriageInput(
            procedure_date=self.procedure_date,
            reported_at=self.reported_at,
            symptoms=self.symptoms,
            sites=tuple(Site(muscle=site.muscle, side=site.side) for site in self.sites),
            temperature=Temperature(temperature.value, temperature.unit) if temperature is not None else None,
            pain_now=self.pain_now,
            free_text=self.free_text,
            procedure_at=self.procedure_at,
            botulinum_toxin=self.botulinum_toxin,
        )


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
    The atlas is loaded only when a site names a muscle.
    """
    return parse(TriageRequestIn, payload, atlas=atlas, symptoms=symptoms, thresholds=thresholds).to_input()


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

