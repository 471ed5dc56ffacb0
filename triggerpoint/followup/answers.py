"""A patient's check-in answers: checked, stored, and turned into a triage request.

The check-in form asks five things (warning signs from the published symptom list, a
temperature with its unit, pain now 0–10, percent relief since the injection, free text).
This module checks the answers the same way for the phone form, the portal and the API,
and builds the ``POST /api/v1/followup/triage`` contract from them plus the procedure facts
(date, time, treated sites) so the stored check-in and the calculator can never disagree.

Percent relief is not a triage input (issue 8 triages warning signs, not benefit); it is
kept for the clinician and for outcome tracking.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

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
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, MAX_FREE_TEXT_CHARS, PAIN_SCALE, TriageThresholds

ANSWER_FIELDS = ("symptoms", "temperature", "pain_now", "relief_percent", "free_text")
RELIEF_SCALE = (0, 100)


def _whole_number(raw: object, name: str, scale: tuple[int, int], problems: list[str]) -> int | None:
    low, high = scale
    if raw is None or raw == "":
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or not low <= value <= high:
        problems.append(f"{name}: must be a whole number from {low} to {high}, got {raw!r}")
        return None
    return int(value)


def normalise_answers(
    raw: object, *, symptoms: SymptomCatalog | None = None, thresholds: TriageThresholds = DEFAULT_THRESHOLDS
) -> dict[str, Any]:
    """The stored shape of a check-in's answers; RuleInputError lists every problem.

    ``{"symptoms": [ids, sorted], "temperature": {"value": float, "unit": "F"|"C"} | None,
    "pain_now": int | None, "relief_percent": int | None, "free_text": str}``. An implausible
    temperature (outside the triage thresholds' body range) is refused here too, so it is
    listed together with the other problems rather than in a second round trip.
    """
    catalog = symptoms or load_symptoms()
    if not isinstance(raw, Mapping):
        raise RuleInputError("the answers must be an object")
    problems: list[str] = []
    unknown_fields = sorted(set(raw) - set(ANSWER_FIELDS))
    if unknown_fields:
        problems.append(f"unknown field(s) {unknown_fields}; allowed: {list(ANSWER_FIELDS)}")

    chosen = raw.get("symptoms") or []
    if not isinstance(chosen, list | tuple) or not all(isinstance(item, str) for item in chosen):
        problems.append(f"symptoms: must be a list of symptom ids; allowed ids: {list(catalog.ids)}")
        chosen = []
    unknown = [item for item in chosen if item not in catalog.by_id]
    if unknown:
        problems.append(f"symptoms: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")

    temperature = None
    raw_temperature = raw.get("temperature")
    if raw_temperature not in (None, "", {}):
        if not isinstance(raw_temperature, Mapping):
            problems.append('temperature: must be an object {"value": number, "unit": "F" | "C"}')
        else:
            value = to_decimal(raw_temperature.get("value"))
            unit = normalise_unit(raw_temperature.get("unit"))
            if value is None:
                problems.append(f"temperature.value: must be a number, got {raw_temperature.get('value')!r}")
            if unit is None:
                problems.append(
                    f"temperature.unit: {raw_temperature.get('unit')!r} is not a temperature unit; "
                    f"allowed: {sorted(UNIT_SPELLINGS)}"
                )
            if value is not None and unit is not None:
                if is_plausible(Temperature(value, unit), thresholds.plausible_temperature_f):
                    temperature = {"value": float(value), "unit": unit}
                else:
                    problems.append(
                        f"temperature: {value} °{unit} is not a plausible body temperature (expected "
                        f"{describe_range(thresholds.plausible_temperature_f)}); please check the reading and the unit"
                    )

    pain_now = _whole_number(raw.get("pain_now"), "pain_now", PAIN_SCALE, problems)
    relief = _whole_number(raw.get("relief_percent"), "relief_percent", RELIEF_SCALE, problems)
    free_text = raw.get("free_text") or ""
    if not isinstance(free_text, str):
        problems.append("free_text: must be a string")
        free_text = ""
    elif len(free_text) > MAX_FREE_TEXT_CHARS:
        problems.append(f"free_text: longer than {MAX_FREE_TEXT_CHARS} characters")
    if problems:
        raise RuleInputError(problems)
    return {
        "symptoms": sorted(set(chosen)),
        "temperature": temperature,
        "pain_now": pain_now,
        "relief_percent": relief,
        "free_text": free_text.strip(),
    }


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
