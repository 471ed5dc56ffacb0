"""Parsing FHIR search parameter values (token, string, date, reference) into plain values, or a 400.

What a value may look like is decided here, once, for every resource type: a value the parser
does not accept is an `invalid` OperationOutcome naming the parameter, never a 500. Dates follow
FHIR's `date`/`dateTime` syntax (a year, a month, a day, or a time with a zone) with the prefixes
`eq ne gt lt ge le sa eb`; each value becomes the range of days it covers, because every date we
search is a day (a visit date, a procedure date, a birth date). A time of day is rounded to its
day in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from triggerpoint.fhir.errors import invalid

MAX_VALUE_LENGTH = 256
DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True)
class DateValue:
    """A date search value: the prefix and the days it covers, `start` inclusive, `end` exclusive (None: no end)."""

    prefix: str
    start: date
    end: date | None


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system ("|code")
    code: str


@dataclass(frozen=True)
class Ref:
    type: str | None
    id: str


def check_text(name: str, raw: str) -> str:
    if "\x00" in raw or any(ord(ch) < 32 for ch in raw):
        raise invalid(f"Parameter {name!r}: control characters are not allowed.")
    if len(raw) > MAX_VALUE_LENGTH:
        raise invalid(f"Parameter {name!r}: a value is longer than {MAX_VALUE_LENGTH} characters.")
    return raw


def split_values(name: str, raw: str) -> list[str]:
    """The comma-separated alternatives of one parameter (`\\,` is a literal comma)."""
    check_text(name, raw)
    parts = [p.replace("\\,", ",") for p in re.split(r"(?<!\\),", raw)]
    if not any(p.strip() for p in parts):
        raise invalid(f"Parameter {name!r} has no value.")
    return [p for p in parts if p.strip()]


def parse_date(name: str, raw: str) -> DateValue:
    prefix = raw[:2] if raw[:2] in PREFIXES else "eq"
    text = raw[2:] if raw[:2] in PREFIXES else raw
    match = DATE.match(text)
    if not match:
        raise invalid(f"Parameter {name!r}: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime).")
    year, month, day = int(match["year"]), match["month"], match["day"]
    if match["time"] is not None and match["zone"] is None:
        raise invalid(f"Parameter {name!r}: {text!r} has a time without a zone (add Z or ±hh:mm).")
    try:
        if day is not None:
            start = date(year, int(month), int(day))
            if match["time"] is not None:
                start = _utc_day(text, start)
            end = _next(start, days=1)
        elif month is not None:
            start = date(year, int(month), 1)
            end = _month_after(start)
        else:
            start = date(year, 1, 1)
            end = date(year + 1, 1, 1) if year < 9999 else None
    except ValueError:
        raise invalid(f"Parameter {name!r}: {text!r} is not a calendar date.") from None
    if year < 1:
        raise invalid(f"Parameter {name!r}: the year must be 0001 or later.")
    return DateValue(prefix, start, end)


def _next(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _month_after(first: date) -> date | None:
    if first.month == 12:
        return date(first.year + 1, 1, 1) if first.year < 9999 else None
    return date(first.year, first.month + 1, 1)


def _utc_day(text: str, fallback: date) -> date:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    try:
        return (moment - moment.utcoffset()).date() if moment.utcoffset() else moment.date()
    except OverflowError:
        return fallback


def parse_token(name: str, raw: str) -> Token:
    if "|" in raw:
        system, _, code = raw.partition("|")
        return Token(system, code)
    return Token(None, raw)


def parse_reference(name: str, raw: str, target: str | None) -> Ref:
    """`Patient/123`, `123` or an absolute URL ending in `Patient/123`; with no `target` (any type) `Type/id`."""
    parts = raw.rstrip("/").split("/")
    if target is None and len(parts) < 2:
        raise invalid(f"Parameter {name!r}: a reference here names its type (`Type/id`).")
    if len(parts) >= 2:
        kind, ident = parts[-2], parts[-1]
        if target is not None and kind != target:
            raise invalid(f"Parameter {name!r}: a reference here names a {target}, not {kind!r}.")
    else:
        kind, ident = target, parts[-1]
    if not ID.match(ident):
        raise invalid(f"Parameter {name!r}: {ident!r} is not a FHIR id.")
    return Ref(kind, ident)


def parse(name: str, kind: str, raw: str, target: str | None = None) -> list[Any]:
    """The alternatives of one parameter occurrence, parsed for its type."""
    values = split_values(name, raw)
    if kind == "date":
        return [parse_date(name, v) for v in values]
    if kind == "token":
        return [parse_token(name, v) for v in values]
    if kind == "reference":
        return [parse_reference(name, v, target) for v in values]
    return values  # string


def parse_int(name: str, raw: str, *, low: int, high: int) -> int:
    check_text(name, raw)
    if not re.fullmatch(r"\d{1,12}", raw.strip()):
        raise invalid(f"Parameter {name!r} must be a whole number from {low} to {high}.")
    value = int(raw)
    if not low <= value <= high:
        raise invalid(f"Parameter {name!r} must be a whole number from {low} to {high}.")
    return value
