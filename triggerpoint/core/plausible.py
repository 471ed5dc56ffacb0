"""Plausible dates: how far from today a date a client sends may lie, in one table.

Python's `date` reaches year 9999 and SQLite and PostgreSQL disagree about what
they can hold near that edge (a `9999-12-31T23:00-05:00` instant is year 10000 in
UTC: PostgreSQL stores it and every later read fails; SQLite fails at write). A
clinic has no use for such dates, and a typo such as 2062 for 2026 is a wrong
record, so every date or date-time a client can send — API bodies and queries,
page forms — is checked here against a window around today and refused with a
4xx that names the field.

The windows, and why:

| kind | earliest | latest | why |
|---|---|---|---|
| `birth` | 1900-01-01 | today | nobody alive was born before 1900; nobody is born tomorrow |
| `history` | today − 120 years | today | past events told by the patient (onset, a fever, antibiotics) |
| `recorded` | today − 5 years | today + 1 day | what the clinic measured or was told (weights, measurements, symptom reports, visits); the day of slack covers time zones |
| `scheduled` | today − 5 years | today + 2 years | planned or performed clinical events (procedure dates, visits, on-call rota) |
| `report` | 1900-01-01 | today + 2 years | analytics filters: any period the clinic's records could cover |
| `product` | today − 10 years | today + 10 years | an injectate's expiry date on the vial |

Date-times are judged by their own calendar date (as sent, before conversion to
UTC), because converting year 9999 to UTC is itself what overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from pydantic import AfterValidator


@dataclass(frozen=True)
class Window:
    kind: str
    earliest: Callable[[date], date]
    latest: Callable[[date], date]


def _years_before(years: int) -> Callable[[date], date]:
    return lambda today: today - timedelta(days=round(365.25 * years))


def _days_after(days: int) -> Callable[[date], date]:
    return lambda today: today + timedelta(days=days)


def _fixed(day: date) -> Callable[[date], date]:
    return lambda _today: day


WINDOWS: dict[str, Window] = {
    window.kind: window
    for window in (
        Window("birth", _fixed(date(1900, 1, 1)), _days_after(0)),
        Window("history", _years_before(120), _days_after(0)),
        Window("recorded", _years_before(5), _days_after(1)),
        Window("scheduled", _years_before(5), _days_after(731)),
        Window("report", _fixed(date(1900, 1, 1)), _days_after(731)),
        Window("product", _years_before(10), _days_after(3653)),
    )
}


def _today() -> date:
    return timezone.localdate()


def bounds(kind: str, today: date | None = None) -> tuple[date, date]:
    window = WINDOWS[kind]
    today = today or _today()
    return window.earliest(today), window.latest(today)


def problem(kind: str, value: date | datetime | None, today: date | None = None) -> str | None:
    """Why `value` is not a plausible `kind` date (None when it is, or when there is no value)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    earliest, latest = bounds(kind, today)
    if earliest <= day <= latest:
        return None
    return f"must be between {earliest.isoformat()} and {latest.isoformat()}"


def check(kind: str, value, field: str, problems: list[str], today: date | None = None) -> None:
    """Append "<field> must be between …" to `problems` (the RuleInputError style) when implausible."""
    reason = problem(kind, value, today)
    if reason:
        problems.append(f"{field} {reason}")


def _pydantic(kind: str) -> Callable[[Any], Any]:
    def validate(value):
        reason = problem(kind, value)
        if reason:
            raise ValueError(f"Date {reason}")
        return value

    return validate


def form_validator(kind: str) -> Callable[[Any], None]:
    """A Django form/model field validator: a form error on the field, never a 500."""

    def validate(value) -> None:
        reason = problem(kind, value)
        if reason:
            raise ValidationError(f"Date {reason}.", code="implausible_date")

    return validate


# Annotated types for API schemas: `date_of_birth: BirthDate`. The 422 names the field.
BirthDate = Annotated[date, AfterValidator(_pydantic("birth"))]
HistoryDate = Annotated[date, AfterValidator(_pydantic("history"))]
RecordedDate = Annotated[date, AfterValidator(_pydantic("recorded"))]
RecordedDateTime = Annotated[datetime, AfterValidator(_pydantic("recorded"))]
ScheduledDate = Annotated[date, AfterValidator(_pydantic("scheduled"))]
ScheduledDateTime = Annotated[datetime, AfterValidator(_pydantic("scheduled"))]
ReportDate = Annotated[date, AfterValidator(_pydantic("report"))]
