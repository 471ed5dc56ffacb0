"""Corticosteroid cautions: diabetes and today's glucose, and the series and 12-month counts
(thresholds in `ScreeningPolicy`).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.policy import (
    MP_739,
    TRIPLE_S,
)

STEROID_DIABETES = Rule(
    "SCR-STEROID-DIABETES",
    1,
    "Diabetes with a planned corticosteroid",
    "Corticosteroid injections can raise blood glucose for up to about 3 days.",
    ("tpi-clinical-facts.md §2.4 (lmtrehab; UIllinois; Benzon 2024 multisociety guideline)",),
)

STEROID_GLUCOSE = Rule(
    "SCR-STEROID-GLUCOSE",
    1,
    "High blood glucose today with a planned corticosteroid",
    "Some clinics postpone a steroid injection when glucose is above 200 mg/dL, because the steroid raises "
    "it further for days.",
    ("tpi-clinical-facts.md §2.4 (lmtrehab, a clinic page [C])",),
)

STEROID_SERIES = Rule(
    "SCR-STEROID-SERIES",
    1,
    "Corticosteroid beyond the series limit",
    "Payer policy MP-739 treats a corticosteroid in more than 4 injections in a set as not medically "
    "necessary; repeated steroid exposure also raises glucose and can suppress the adrenal axis.",
    (MP_739, "Benzon 2024 multisociety guideline (tpi-clinical-facts.md §2.4)"),
)

STEROID_YEARLY = Rule(
    "SCR-STEROID-YEARLY",
    1,
    "Corticosteroid injections in the last 12 months",
    "No TPI-specific yearly steroid ceiling was found; payers cap injections at about 4 in 12 months, and "
    "steroid exposure adds up (glucose, bone density, adrenal suppression).",
    (MP_739, TRIPLE_S, "Benzon 2024 multisociety guideline (tpi-clinical-facts.md §2.4)"),
)


_BY_ID = {rule.id: rule for rule in (STEROID_DIABETES, STEROID_GLUCOSE, STEROID_SERIES, STEROID_YEARLY,)}


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(_BY_ID[rule_id], severity, message, **data)


def steroid_diabetes(ctx) -> list[Finding]:
    if not ctx.steroid_planned or "diabetes" not in ctx.inp.patient.conditions:
        return []
    days = ctx.policy.steroid_glucose_watch_days
    return [
        _finding(
            "SCR-STEROID-DIABETES",
            "info",
            f"Diabetes and a planned corticosteroid: tell the patient blood glucose may run high for about {days} "
            "days and to check it more often.",
            watch_days=days,
        )
    ]


def steroid_glucose(ctx) -> list[Finding]:
    glucose = ctx.inp.today.blood_glucose_mg_dl
    limit = ctx.policy.steroid_glucose_review_above_mg_dl
    if not ctx.steroid_planned or glucose is None or glucose <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-GLUCOSE",
            "review",
            f"Blood glucose today {glucose} mg/dL is above {limit} mg/dL with a corticosteroid planned: consider "
            "leaving out the steroid or postponing.",
            glucose_mg_dl=str(glucose),
        )
    ]


def steroid_series(ctx) -> list[Finding]:
    prior = ctx.inp.history.steroid_injections_in_series
    limit = ctx.policy.steroid_series_max
    if not ctx.steroid_planned or prior is None or prior + 1 <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-SERIES",
            "review",
            f"This would be corticosteroid injection {prior + 1} in the series; the limit is {limit}. Consider "
            "leaving out the steroid.",
            count_with_this=prior + 1,
            limit=limit,
        )
    ]


def steroid_yearly(ctx) -> list[Finding]:
    if not ctx.steroid_planned:
        return []
    prior = ctx.inp.history.steroid_injections_last_12_months
    limit = ctx.policy.steroid_yearly_max
    if prior is None:
        return [
            _finding(
                "SCR-STEROID-YEARLY",
                ctx.policy.missing_steroid_history_severity,
                "Corticosteroid planned but the number of steroid injections in the last 12 months was not "
                f"given, so the yearly limit ({limit}) was not checked.",
            )
        ]
    if prior + 1 <= limit:
        return []
    return [
        _finding(
            "SCR-STEROID-YEARLY",
            "review",
            f"This would be corticosteroid injection {prior + 1} in 12 months; the limit is {limit}. Consider "
            "leaving out the steroid.",
            count_with_this=prior + 1,
            limit=limit,
        )
    ]

