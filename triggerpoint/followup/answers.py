"""A patient's check-in answers: checked, stored, and turned into a triage request.

The check-in form asks five things (warning signs from the published symptom list, a
temperature with its unit, pain now 0–10, percent relief since the injection, free text).
This module checks the answers the same way for the phone form, the portal and the API,
and builds the ``POST /api/v1/followup/triage`` contract from them plus the procedure facts
(date, time, treated sites) so the stored check-in and the calculator can never disagree.

Percent relief is not a triage input (issue 8 triages warning signs, not benefit); it is
kept for the clinician and for outcome tracking.

The answers are a typed contract (`CheckInAnswersIn`, on `core.contracts`): every problem at
once, in the sentences forms and the API have always shown. It is lenient where a form is
(numbers as text, a blank field as not answered), which the triage contract is not.

Pure module: pydantic, no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import ValidationInfo, WithJsonSchema

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
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, MAX_FREE_TEXT_CHARS, PAIN_SCALE, TriageThresholds

ANSWER_FIELDS = ("symptoms", "temperature", "pain_now", "relief_percent", "free_text")
RELIEF_SCALE = (0, 100)


def _whole_number(scale: tuple[int, int]):
    """A check for a whole number on `scale`, sent as a number or as text ("7"); blank is not answered."""
    low, high = scale

    def check(raw: Any) -> int | None:
        if raw is None or raw == "":
            return None
        value = raw
        if isinstance(raw, str):
            try:
                value = int(raw.strip())
            except ValueError:
                value = None
        # math.isfinite first: int() of an infinite or NaN number would raise instead of answering.
        if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
                or value != int(value) or not low <= value <= high):
            raise problem(f"{{where}}: must be a whole number from {low} to {high}, got {raw!r}")
        return int(value)

    return check


def _symptoms(raw: Any, info: ValidationInfo) -> tuple[str, ...]:
    catalog = catalogue(info.context or {}, "symptoms", load_symptoms)
    chosen = raw or []
    if not isinstance(chosen, list | tuple) or not all(isinstance(item, str) for item in chosen):
        raise problem(f"{{where}}: must be a list of symptom ids; allowed ids: {list(catalog.ids)}")
    unknown = [item for item in chosen if item not in catalog.by_id]
    if unknown:
        raise problem(f"{{where}}: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")
    return tuple(chosen)


def _reading(raw: Any) -> Decimal:
    value = to_decimal(raw)
    if value is None:
        raise problem(f"{{where}}: must be a number, got {raw!r}")
    return value


def _unit(raw: Any) -> str:
    unit = normalise_unit(raw)
    if unit is None:
        raise problem(f"{{where}}: {raw!r} is not a temperature unit; allowed: {sorted(UNIT_SPELLINGS)}")
    return unit


TEMPERATURE_SCHEMA = {
    "type": "object", "required": ["value", "unit"],
    "properties": {"value": {"type": ["number", "string"], "description": "a number, or a number as text"},
                   "unit": {"type": "string", "enum": ["F", "C"]}},
}


class AnswerTemperatureIn(Contract):
    """A temperature answer (the value may be text, as a form sends it); other fields are ignored."""

    not_an_object: ClassVar[str] = '{where}: must be an object {"value": number, "unit": "F" | "C"}'
    unknown_fields: ClassVar[None] = None

    value: checked(_reading, {"type": ["number", "string"]})
    unit: checked(_unit, {"type": "string", "enum": ["F", "C"]}, str)

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str | tuple[str, str]]:
        if self.value is None or self.unit is None:
            return []
        thresholds = context.get("thresholds") or DEFAULT_THRESHOLDS
        if is_plausible(Temperature(self.value, self.unit), thresholds.plausible_temperature_f):
            return []
        return [f"{{where}}: {self.value} °{self.unit} is not a plausible body temperature (expected "
                f"{describe_range(thresholds.plausible_temperature_f)}); please check the reading and the unit"]


def _free_text(raw: Any) -> str:
    text = raw or ""
    if not isinstance(text, str):
        raise problem("{where}: must be a string")
    if len(text) > MAX_FREE_TEXT_CHARS:
        raise problem(f"{{where}}: longer than {MAX_FREE_TEXT_CHARS} characters")
    return text


class CheckInAnswersIn(Contract):
    """A check-in's answers: warning signs, a temperature, pain now (0–10), percent relief (0–100), free text.

    All optional: ``null`` (and a blank temperature, ``""`` or ``{}``) is not answered.
    """

    not_an_object: ClassVar[str] = "{where}the answers must be an object"
    unknown_fields: ClassVar[str] = "{where}unknown field(s) {unknown}; allowed: {fields}"
    null_is_absent: ClassVar[bool] = True

    symptoms: checked(_symptoms, {"type": "array", "items": {"type": "string"},
                                  "description": "ids from GET /api/v1/followup/symptoms"}, tuple[str, ...]) = ()
    # Inline in the published schema (WithJsonSchema), so the operation's schema needs no second component.
    temperature: Annotated[AnswerTemperatureIn, WithJsonSchema(TEMPERATURE_SCHEMA)] = None
    pain_now: checked(_whole_number(PAIN_SCALE), {"type": "integer", "minimum": PAIN_SCALE[0],
                                                   "maximum": PAIN_SCALE[1]}, int | None) = None
    relief_percent: checked(_whole_number(RELIEF_SCALE), {"type": "integer", "minimum": RELIEF_SCALE[0],
                                                           "maximum": RELIEF_SCALE[1]}, int | None) = None
    free_text: checked(_free_text, {"type": "string", "maxLength": MAX_FREE_TEXT_CHARS}, str) = ""

    def stored(self) -> dict[str, Any]:
        temperature = self.temperature
        return {
            "symptoms": sorted(set(self.symptoms)),
            "temperature": None if temperature is None else {"value": float(temperature.value),
                                                             "unit": temperature.unit},
            "pain_now": self.pain_now,
            "relief_percent": self.relief_percent,
            "free_text": self.free_text.strip(),
        }


def normalise_answers(
    raw: object, *, symptoms: SymptomCatalog | None = None, thresholds: TriageThresholds = DEFAULT_THRESHOLDS
) -> dict[str, Any]:
    """The stored shape of a check-in's answers; RuleInputError lists every problem.

    ``{"symptoms": [ids, sorted], "temperature": {"value": float, "unit": "F"|"C"} | None,
    "pain_now": int | None, "relief_percent": int | None, "free_text": str}``. An implausible
    temperature (outside the triage thresholds' body range) is refused here too, so it is
    listed together with the other problems rather than in a second round trip.
    """
    if isinstance(raw, Mapping) and raw.get("temperature") in ("", {}):  # a blank form field: not answered
        raw = {**raw, "temperature": None}
    return parse(CheckInAnswersIn, raw, symptoms=symptoms, thresholds=thresholds).stored()


def triage_request(
    answers: Mapping[str, Any],
    *,
    procedure_date: date,
    reported_at: datetime,
    sites: Iterable[tuple[str, str]] = (),
    procedure_at: datetime | None = None,
    botulinum_toxin: bool | None = None,
) -> dict[str, Any]:
    """The ``followup/triage`` contract body for normalised `answers` about one procedure.

    `botulinum_toxin` is whether the procedure included a toxin (None: cannot tell, which
    triage reads as "possibly").

    `reported_at` and `procedure_at` must already be in the clinic's local offset (day
    numbers are calendar days where the patient is). `procedure_at` is dropped when it
    does not fall on `procedure_date` locally (a back-dated note), so triage falls back
    to its conservative date-only windows instead of refusing the check-in.
    """
    payload: dict[str, Any] = {
        "procedure_date": procedure_date.isoformat(),
        "reported_at": reported_at.isoformat(),
        "symptoms": list(answers.get("symptoms") or []),
    }
    unique_sites = list(dict.fromkeys(sites))
    if unique_sites:
        payload["sites"] = [{"muscle": muscle, "side": side} for muscle, side in unique_sites]
    if procedure_at is not None and procedure_at.date() == procedure_date and procedure_at <= reported_at:
        payload["procedure_at"] = procedure_at.isoformat()
    if botulinum_toxin is not None:
        payload["botulinum_toxin"] = botulinum_toxin
    if answers.get("temperature"):
        payload["temperature"] = dict(answers["temperature"])
    if answers.get("pain_now") is not None:
        payload["pain_now"] = answers["pain_now"]
    if answers.get("free_text"):
        payload["free_text"] = answers["free_text"]
    return payload
