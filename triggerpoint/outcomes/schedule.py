"""When outcomes are asked after a signed procedure: the time points and ``settings.OUTCOMES_SCHEDULE``.

Its own module because both the requests (``outcome_requests``) and the recording
(``services``: the diary window, which time points are follow-ups) read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from triggerpoint.catalogues import instruments as inst
from triggerpoint.outcomes.models import TimePoint

IN_CLINIC_POINTS = (TimePoint.BASELINE.value, TimePoint.IMMEDIATE.value)
FOLLOW_UP_CHOICES = (TimePoint.WEEK_2.value, TimePoint.WEEK_6.value, TimePoint.WEEK_12.value)


@dataclass(frozen=True)
class OutcomeSchedule:
    """When outcomes are asked after a signed procedure (override with settings.OUTCOMES_SCHEDULE)."""

    follow_up_days: tuple[tuple[str, int], ...] = (("2w", 14), ("6w", 42), ("12w", 84))
    answer_window_days: int = 14
    follow_up_instruments: tuple[str, ...] = ("nrs_pain", "percent_relief", "pgic", "peg3")
    in_clinic_instruments: tuple[str, ...] = ("nrs_pain",)
    send_hour_local: int = 10
    diary_link_weeks: int = 16


def outcome_schedule() -> OutcomeSchedule:
    """The schedule, with ``settings.OUTCOMES_SCHEDULE = {"follow_up_days": {"2w": 14, ...}, ...}`` applied."""
    override = getattr(settings, "OUTCOMES_SCHEDULE", None) or {}
    problems = []
    unknown = sorted(set(override) - {"follow_up_days", "answer_window_days", "follow_up_instruments"})
    if unknown:
        problems.append(f"unknown OUTCOMES_SCHEDULE keys {unknown}")
    days = override.get("follow_up_days")
    if days is not None:
        bad = sorted(set(days) - set(FOLLOW_UP_CHOICES))
        if bad:
            problems.append(f"follow_up_days has unknown time points {bad}; allowed: {', '.join(FOLLOW_UP_CHOICES)}")
        if any(not isinstance(v, int) or v < 1 for v in days.values()):
            problems.append("follow_up_days values must be whole days of at least 1")
    instruments_ = override.get("follow_up_instruments")
    if instruments_ is not None:
        known = inst.load_instruments()
        missing = [i for i in instruments_ if i not in known]
        if missing:
            problems.append(f"follow_up_instruments has unknown instruments {missing}; allowed: {', '.join(sorted(known))}")
    if problems:
        raise ImproperlyConfigured("; ".join(problems))
    base = OutcomeSchedule()
    return OutcomeSchedule(
        follow_up_days=tuple(sorted(days.items(), key=lambda kv: kv[1])) if days is not None else base.follow_up_days,
        answer_window_days=override.get("answer_window_days", base.answer_window_days),
        follow_up_instruments=tuple(instruments_) if instruments_ is not None else base.follow_up_instruments,
    )
