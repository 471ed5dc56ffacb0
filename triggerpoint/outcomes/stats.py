"""Group statistics of the clinic report, from additive sufficient statistics.

Pure module. The report never holds a million rows: it holds per group the
counts, sums and sums of squares below (``GroupTotals``) and the Kaplan-Meier
event/censor counts per day, which add up across months and clinics. From them
this module derives what the dashboard shows:

* **responder rate** at 2 and 6 weeks with a Wilson 95% interval
  (``scipy.stats.binomtest(...).proportion_ci``);
* **mean pain change** (pain now at the time point minus baseline) with a
  t-based 95% interval (``scipy.stats.t``), from n, sum and sum of squares;
* **share beating the NRS MCID** at 6 weeks;
* **median duration of relief** with its confidence interval from
  Kaplan-Meier (``relief.kaplan_meier_counts``, lifelines).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from scipy import stats as scipy_stats

from triggerpoint.outcomes import relief

CONFIDENCE = 0.95


@dataclass
class GroupTotals:
    """The additive statistics of one group (one row of ``OutcomeRollup`` without its keys)."""

    n: int = 0
    n_2w: int = 0
    resp_2w: int = 0
    n_6w: int = 0
    resp_6w: int = 0
    n_change_2w: int = 0
    sum_change_2w: float = 0.0
    sumsq_change_2w: float = 0.0
    n_change_6w: int = 0
    sum_change_6w: float = 0.0
    sumsq_change_6w: float = 0.0
    n_mcid_6w: int = 0
    n_not_evaluable: int = 0

    def add(self, other: GroupTotals | Mapping[str, float]) -> None:
        for f in fields(self):
            value = getattr(other, f.name) if isinstance(other, GroupTotals) else other.get(f.name, 0)
            setattr(self, f.name, getattr(self, f.name) + value)


STAT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(GroupTotals))


@dataclass(frozen=True)
class Rate:
    k: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Mean:
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class GroupResult:
    dimension: str
    value: str
    label: str
    n: int
    responders_2w: Rate
    responders_6w: Rate
    change_2w: Mean
    change_6w: Mean
    mcid_6w: Rate
    relief: relief.KMResult | None

    @property
    def few_cases(self) -> bool:
        return self.n < 10


def rate(k: int, n: int, confidence: float = CONFIDENCE) -> Rate:
    """Proportion with its Wilson interval; all None when nobody was counted."""
    if n <= 0:
        return Rate(k=0, n=0, rate=None, ci_low=None, ci_high=None)
    interval = scipy_stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return Rate(k=int(k), n=int(n), rate=k / n, ci_low=float(interval.low), ci_high=float(interval.high))


def mean_with_ci(n: int, total: float, total_sq: float, confidence: float = CONFIDENCE) -> Mean:
    """Mean and t interval from n, sum and sum of squares (no interval below two cases)."""
    if n <= 0:
        return Mean(n=0, mean=None, ci_low=None, ci_high=None)
    mean = total / n
    if n < 2:
        return Mean(n=n, mean=mean, ci_low=None, ci_high=None)
    variance = max((total_sq - total * total / n) / (n - 1), 0.0)
    half = scipy_stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * math.sqrt(variance / n)
    return Mean(n=n, mean=mean, ci_low=mean - half, ci_high=mean + half)


def group_result(
    dimension: str,
    value: str,
    label: str,
    totals: GroupTotals,
    relief_counts: Sequence[relief.DurationCount],
    confidence: float = CONFIDENCE,
) -> GroupResult:
    km = None
    if any(c.count > 0 for c in relief_counts):
        km = relief.kaplan_meier_counts(
            {value: relief_counts}, confidence=confidence, not_evaluable={value: totals.n_not_evaluable}
        )[value]
    return GroupResult(
        dimension=dimension,
        value=value,
        label=label,
        n=totals.n,
        responders_2w=rate(totals.resp_2w, totals.n_2w, confidence),
        responders_6w=rate(totals.resp_6w, totals.n_6w, confidence),
        change_2w=mean_with_ci(totals.n_change_2w, totals.sum_change_2w, totals.sumsq_change_2w, confidence),
        change_6w=mean_with_ci(totals.n_change_6w, totals.sum_change_6w, totals.sumsq_change_6w, confidence),
        mcid_6w=rate(totals.n_mcid_6w, totals.n_change_6w, confidence),
        relief=km,
    )
