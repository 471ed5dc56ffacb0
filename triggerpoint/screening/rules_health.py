"""The patient's health on the procedure day and in the weeks before: infection at a site,
antibiotics, fever, feeling unwell, recent illness.

The recent-illness window is half-open: an event counts when any of its days falls in
``[procedure_date - window_days, procedure_date)`` (`ScreeningPolicy.recent_event_window_days`).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.inputs import Event, Temperature
from triggerpoint.screening.policy import (
    DEFAULT_POLICY,
    FPNOTEBOOK,
    SEED_002,
    ScreeningPolicy,
)

SITE_INFECTION = Rule(
    "SCR-SITE-INFECTION",
    1,
    "Infection or broken skin at a planned site",
    "Injecting through infected or broken skin can carry germs into the muscle; local infection is a "
    "contraindication.",
    (FPNOTEBOOK, "Trial exclusion criteria (tpi-clinical-facts.md §3.1)"),
)

ANTIBIOTICS_TODAY = Rule(
    "SCR-ANTIBIOTICS-TODAY",
    1,
    "On antibiotics on the procedure day",
    "The clinic asks patients to be off all antibiotics on the day of the procedure; an infection still "
    "being treated is a reason to wait.",
    (SEED_002, "Clinic reporting instructions (tpi-clinical-facts.md §3.3)"),
)

FEVER_TODAY = Rule(
    "SCR-FEVER-TODAY",
    1,
    "Fever on the procedure day",
    "The clinic asks patients to be healthy on the day; a fever suggests a systemic infection, which is a "
    "contraindication. The threshold is the clinic's; no TPI-specific fever threshold was found.",
    (SEED_002, FPNOTEBOOK),
)

UNWELL_TODAY = Rule(
    "SCR-UNWELL-TODAY",
    1,
    "Feeling unwell on the procedure day",
    "The clinic asks patients to be healthy on the day of the procedure.",
    (SEED_002,),
)

RECENT_ILLNESS = Rule(
    "SCR-RECENT-ILLNESS",
    1,
    "Fever, antibiotics, illness or hospital stay in the weeks before",
    "The clinic asks patients to report fevers, antibiotic treatment, illness or hospitalization within the "
    "last 4 weeks (the clinic's own rule; no published source gives that window).",
    (SEED_002, "tpi-clinical-facts.md §3.3, §9 item 1"),
)


_BY_ID = {rule.id: rule for rule in (SITE_INFECTION, ANTIBIOTICS_TODAY, FEVER_TODAY, UNWELL_TODAY, RECENT_ILLNESS,)}


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(_BY_ID[rule_id], severity, message, **data)


def site_infection(ctx) -> list[Finding]:
    if not ctx.inp.today.infection_at_site:
        return []
    return [
        _finding(
            "SCR-SITE-INFECTION",
            "contraindicated",
            "Infection or broken skin at or near a planned site: do not inject through it.",
        )
    ]


def antibiotics_today(ctx) -> list[Finding]:
    if not ctx.inp.today.on_antibiotics:
        return []
    return [
        _finding(
            "SCR-ANTIBIOTICS-TODAY",
            "defer",
            "On antibiotics today: defer until the course is finished and the patient is well.",
        )
    ]


def fever_today(ctx) -> list[Finding]:
    temperature = ctx.inp.today.temperature
    threshold = Temperature(ctx.policy.fever_threshold_c, "C").describe()
    if temperature is None:
        return [
            _finding(
                "SCR-FEVER-TODAY",
                ctx.policy.missing_temperature_severity,
                f"No temperature recorded today, so fever (at or above {threshold}) has not been ruled out.",
            )
        ]
    if temperature.celsius < ctx.policy.fever_threshold_c:
        return []
    return [
        _finding(
            "SCR-FEVER-TODAY",
            "defer",
            f"Fever today: {temperature.describe()} is at or above {threshold}. Defer until the patient is well.",
            temperature_c=str(temperature.celsius.quantize(Decimal("0.01"))),
        )
    ]


def unwell_today(ctx) -> list[Finding]:
    if not ctx.inp.today.feels_unwell:
        return []
    return [_finding("SCR-UNWELL-TODAY", "defer", "The patient feels unwell today: defer until they are well.")]


def recent_event_window(procedure_date: date, policy: ScreeningPolicy = DEFAULT_POLICY) -> tuple[date, date]:
    """The first day of the window and the first day after it: ``[procedure_date - N days, procedure_date)``."""
    return procedure_date - timedelta(days=policy.recent_event_window_days), procedure_date


def event_in_window(event: Event, procedure_date: date, policy: ScreeningPolicy = DEFAULT_POLICY) -> bool:
    """True when any day of ``[event.date, event.last_day]`` falls within the recent-illness window."""
    start, end = recent_event_window(procedure_date, policy)
    return event.date < end and event.last_day >= start


def recent_illness(ctx) -> list[Finding]:
    start, _ = recent_event_window(ctx.inp.procedure_date, ctx.policy)
    findings = []
    for event in ctx.inp.events:
        if not event_in_window(event, ctx.inp.procedure_date, ctx.policy):
            continue
        when = event.date.isoformat() if event.end_date is None else f"{event.date.isoformat()} to {event.end_date.isoformat()}"
        findings.append(
            _finding(
                "SCR-RECENT-ILLNESS",
                ctx.policy.recent_event_severity,
                f"{event.type.capitalize()} ({when}) within the {ctx.policy.recent_event_window_days} days before "
                f"the procedure (since {start.isoformat()}): confirm the patient has recovered.",
                event_type=event.type,
                window_start=start.isoformat(),
            )
        )
    return findings

