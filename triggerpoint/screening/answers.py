"""The pre-procedure questionnaire's answers: what may be stored, and how later answers add to earlier ones.

A screening collects answers in steps: the patient answers at home through a link or the
portal, the nurse completes them on the procedure day (temperature, glucose, a fresh
"do you feel well today?"). Each step may answer only part of the questionnaire, so this
module validates what is present and leaves "is anything missing?" to the screening
rules, which refuse to evaluate without every required fact (never a silent ``ready``).

Answers (all keys optional)::

    {"events": [{"type": "fever"|"antibiotics"|"illness"|"hospitalization", "date", "end_date"?}],
     "today": {"feels_unwell", "on_antibiotics", "infection_at_site": bool,
               "temperature": {"value", "unit": "C"|"F"}, "blood_glucose_mg_dl": number},
     "pregnant": "yes"|"no"|"unsure", "breastfeeding": "yes"|"no", "prior_vasovagal": bool,
     "inr": {"value", "date"}, "red_flags": [code, ...] (staff),
     "steroid_injections_elsewhere_12m": int,
     "new_medications": str, "new_allergies": str, "notes": str}

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.rules import (
    EVENT_TYPES,
    INPUT_LIMITS,
    TEMPERATURE_UNITS,
    celsius_to_fahrenheit,
    fahrenheit_to_celsius,
)

PREGNANCY_ANSWERS: tuple[str, ...] = ("yes", "no", "unsure")
TODAY_FLAGS: tuple[str, ...] = ("feels_unwell", "on_antibiotics", "infection_at_site")
TEXT_FIELDS: tuple[str, ...] = ("new_medications", "new_allergies", "notes")
TEXT_MAX = 1000
TOP_LEVEL_KEYS = frozenset({
    "events", "today", "pregnant", "breastfeeding", "prior_vasovagal", "steroid_injections_elsewhere_12m", "inr",
    "red_flags", *TEXT_FIELDS,
})
# Red flags staff record on the questionnaire (also codable as chart risk factors); screening SCR-RED-FLAG.
RED_FLAGS: tuple[str, ...] = (
    "suspected_malignancy", "new_neurological_deficit", "fracture", "recent_trauma_at_site", "recent_surgery_at_site",
)
TODAY_KEYS = frozenset({*TODAY_FLAGS, "temperature", "blood_glucose_mg_dl"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: Any, path: str, kind: str, problems: list[str]) -> date | None:
    """A YYYY-MM-DD date no earlier than the plausible `kind` window of `core.plausible` begins."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        problems.append(f"{path} must be a date written YYYY-MM-DD, not {value!r}")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{path} {value!r} is not a real date")
        return None
    # Too early for its window; a date after the day of answering is refused below as "in the future".
    if day < plausible.bounds(kind)[0]:
        problems.append(f"{path} {plausible.problem(kind, day)}")
        return None
    return day


def _number(value: Any, path: str, problems: list[str]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.append(f"{path} must be a number, not {value!r}")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(f"{path} must be a number, not {value!r}")
        return None
    if not number.is_finite():
        problems.append(f"{path} must be a finite number")
        return None
    return number


def _json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def parse_answers(payload: Any, procedure_date: date, answered_on: date) -> dict[str, Any]:
    """Validate (part of) a questionnaire; return it normalised for storage.

    Raises `RuleInputError` listing every problem: unknown keys, wrong types, dates after
    the day of answering or not before the procedure date, implausible temperatures.
    """
    if not isinstance(payload, Mapping):
        raise RuleInputError("answers must be a JSON object")
    problems: list[str] = []
    result: dict[str, Any] = {}
    for key in sorted(set(payload) - TOP_LEVEL_KEYS):
        problems.append(f"{key} is not a questionnaire answer; allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}")

    if "events" in payload:
        result["events"] = _parse_events(payload["events"], procedure_date, answered_on, problems)
    if "today" in payload:
        result["today"] = _parse_today(payload["today"], problems)
    if payload.get("pregnant") is not None:
        if payload["pregnant"] in PREGNANCY_ANSWERS:
            result["pregnant"] = payload["pregnant"]
        else:
            problems.append(f"pregnant {payload['pregnant']!r} is not allowed; allowed: {', '.join(PREGNANCY_ANSWERS)}")
    if payload.get("breastfeeding") is not None:
        if payload["breastfeeding"] in ("yes", "no"):
            result["breastfeeding"] = payload["breastfeeding"]
        else:
            problems.append(f"breastfeeding {payload['breastfeeding']!r} is not allowed; allowed: yes, no")
    if payload.get("inr") is not None:
        result |= _parse_inr(payload["inr"], answered_on, problems)
    if payload.get("red_flags") is not None:
        flags = payload["red_flags"]
        if not isinstance(flags, list) or any(flag not in RED_FLAGS for flag in flags):
            problems.append(f"red_flags must be a list of: {', '.join(RED_FLAGS)}")
        else:
            result["red_flags"] = sorted(set(flags))
    if payload.get("prior_vasovagal") is not None:
        if isinstance(payload["prior_vasovagal"], bool):
            result["prior_vasovagal"] = payload["prior_vasovagal"]
        else:
            problems.append("prior_vasovagal must be true or false")
    if payload.get("steroid_injections_elsewhere_12m") is not None:
        count = _number(payload["steroid_injections_elsewhere_12m"], "steroid_injections_elsewhere_12m", problems)
        low, high = INPUT_LIMITS.steroid_injections
        if count is not None and (count != count.to_integral_value() or not low <= count <= high):
            problems.append(f"steroid_injections_elsewhere_12m must be a whole number from {low} to {high}")
        elif count is not None:
            result["steroid_injections_elsewhere_12m"] = int(count)
    for key in TEXT_FIELDS:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"{key} must be text")
        elif len(value) > TEXT_MAX:
            problems.append(f"{key} is longer than {TEXT_MAX} characters")
        else:
            result[key] = value.strip()
    if problems:
        raise RuleInputError(problems)
    return result


def _parse_inr(reading: Any, answered_on: date, problems: list[str]) -> dict[str, Any]:
    if not isinstance(reading, Mapping):
        problems.append("inr must be an object with value and date")
        return {}
    value = _number(reading.get("value"), "inr.value", problems)
    taken_on = _date(reading.get("date"), "inr.date", "recorded", problems)
    low, high = INPUT_LIMITS.inr
    if value is not None and not low <= value <= high:
        problems.append(f"inr.value must be between {low} and {high}")
        return {}
    if taken_on is not None and taken_on > answered_on:
        problems.append(f"inr.date {taken_on.isoformat()} is in the future")
        return {}
    if value is None or taken_on is None:
        return {}
    return {"inr": {"value": _json_number(value), "date": taken_on.isoformat()}}


def _parse_events(items: Any, procedure_date: date, answered_on: date, problems: list[str]) -> list[dict[str, str]]:
    if not isinstance(items, list):
        problems.append("events must be a list (use [] when there are none)")
        return []
    events = []
    for index, item in enumerate(items):
        path = f"events[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{path} must be an object with type and date")
            continue
        kind = item.get("type")
        if kind not in EVENT_TYPES:
            problems.append(f"{path}.type {kind!r} is not allowed; allowed: {', '.join(EVENT_TYPES)}")
        start = _date(item.get("date"), f"{path}.date", "history", problems)
        end = _date(item["end_date"], f"{path}.end_date", "history", problems) if item.get("end_date") else None
        for label, day in (("date", start), ("end_date", end)):
            if day is not None and day > answered_on:
                problems.append(f"{path}.{label} {day.isoformat()} is in the future")
        if start is not None and start >= procedure_date:
            problems.append(
                f"{path}.date {start.isoformat()} is not before the procedure date {procedure_date.isoformat()}; "
                "answer the questions about the procedure day instead"
            )
        if start and end and end < start:
            problems.append(f"{path}.end_date is before its date")
        if kind in EVENT_TYPES and start is not None:
            event = {"type": kind, "date": start.isoformat()}
            if end is not None:
                event["end_date"] = end.isoformat()
            events.append(event)
    return events


def _parse_today(section: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(section, Mapping):
        problems.append("today must be an object")
        return {}
    result: dict[str, Any] = {}
    for key in sorted(set(section) - TODAY_KEYS):
        problems.append(f"today.{key} is not a questionnaire answer; allowed: {', '.join(sorted(TODAY_KEYS))}")
    for flag in TODAY_FLAGS:
        if section.get(flag) is None:
            continue
        if isinstance(section[flag], bool):
            result[flag] = section[flag]
        else:
            problems.append(f"today.{flag} must be true or false")
    reading = section.get("temperature")
    if reading is not None:
        if not isinstance(reading, Mapping):
            problems.append("today.temperature must be an object with value and unit")
        else:
            unit = reading.get("unit")
            value = _number(reading.get("value"), "today.temperature.value", problems)
            if unit not in TEMPERATURE_UNITS:
                problems.append(f"today.temperature.unit {unit!r} is not allowed; allowed: {', '.join(TEMPERATURE_UNITS)}")
            elif value is not None:
                celsius = value if unit == "C" else fahrenheit_to_celsius(value)
                low, high = INPUT_LIMITS.temperature_c
                if not low <= celsius <= high:
                    problems.append(
                        f"today.temperature {value} °{unit} is outside {low}–{high} °C "
                        f"({celsius_to_fahrenheit(low):.0f}–{celsius_to_fahrenheit(high):.0f} °F); check the unit"
                    )
                else:
                    result["temperature"] = {"value": _json_number(value), "unit": unit}
    if section.get("blood_glucose_mg_dl") is not None:
        glucose = _number(section["blood_glucose_mg_dl"], "today.blood_glucose_mg_dl", problems)
        low, high = INPUT_LIMITS.blood_glucose_mg_dl
        if glucose is not None and not low <= glucose <= high:
            problems.append(f"today.blood_glucose_mg_dl must be between {low} and {high} mg/dL")
        elif glucose is not None:
            result["blood_glucose_mg_dl"] = _json_number(glucose)
    return result


def merge_answers(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """Later answers win, key by key; ``today`` is merged field by field so a nurse's temperature
    does not erase the patient's answers, and ``events`` given again replace the earlier list."""
    merged = copy.deepcopy(dict(earlier))
    for key, value in later.items():
        if key == "today" and isinstance(merged.get("today"), dict):
            merged["today"] = {**merged["today"], **copy.deepcopy(value)}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def split_free_text(text: str) -> list[str]:
    """A patient's free-text list ("ibuprofen, apixaban; latex") as separate items."""
    return [item.strip() for item in re.split(r"[,;\n]+", text or "") if item.strip()]
