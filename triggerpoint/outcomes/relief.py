"""Duration of relief after a trigger point injection, and its Kaplan-Meier estimate per group.

Payers decide repeat injections on how long relief lasted ("at least 50% relief
lasting at least 6 weeks", Medicare LCDs L34211/L36859), and a clinic wants to
know how long relief lasts after, say, lidocaine versus dry needling. Both need
one precise definition, applied the same way to every patient:

**Duration of relief** is the number of days from the procedure date (day 0) to
the first *counted* follow-up observation at which relief is judged lost —
percent relief below ``min_relief_percent`` (default 50%) **or** pain now at or
above ``pain_return_fraction_of_baseline`` x the pre-procedure baseline pain
(default: back to baseline).

* **Day 0 does not count.** Readings taken on the procedure day (the immediate
  post-procedure percent relief that billing article A57701 asks for) mostly
  show the local anaesthetic working; they prove the diagnosis, not durable
  relief. Counting starts on ``first_counted_day`` (default day 1).
* **Censored** when relief was never judged lost: the duration is the day of the
  last counted observation, because that is the last day relief is *known* to
  have held. ``follow_up_end`` (e.g. the date of the next procedure, or the end
  of the study window) closes the window: observations after it are ignored, as
  they describe the next treatment. We do not censor at ``follow_up_end`` itself
  when it is later than the last observation, because nothing was observed in
  between.
* **Not evaluable** when there is no counted observation at all; such cases are
  left out of Kaplan-Meier estimates and counted separately.
* Relief is observed only at visits, so a loss recorded on day 42 happened at
  some point after the previous visit; the day of the first observation showing
  the loss is used (the usual right-endpoint convention for visit data).

Kaplan-Meier estimation, its Greenwood (exponential) confidence band and the
median's confidence interval come from ``lifelines``; nothing here re-implements them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from numbers import Real

from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from triggerpoint.core.rules import Rule, RuleInputError

RELIEF_ENDED = "relief_ended"
CENSORED = "censored"
NOT_EVALUABLE = "not_evaluable"

PAIN_SCALE_MAX = 10
PERCENT_MAX = 100


@dataclass(frozen=True)
class ReliefPolicy:
    """Thresholds of the duration-of-relief definition (one table; pass another instance to override)."""

    min_relief_percent: float = 50
    pain_return_fraction_of_baseline: float = 1.0
    first_counted_day: int = 1


DEFAULT_RELIEF_POLICY = ReliefPolicy()

RELIEF_DURATION_RULE = Rule(
    id="OUT-RELIEF-DURATION",
    version=1,
    title="Duration of relief after a procedure",
    basis=(
        "Days from the procedure to the first follow-up after the procedure day at which relief fell below "
        "50% or pain returned to its pre-procedure level; censored at the last follow-up if that never "
        "happened. Repeat-injection coverage depends on relief of at least 50% lasting at least 6 weeks."
    ),
    sources=(
        "Medicare LCD L34211 https://cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=34211",
        "Medicare LCD L36859 https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=36859",
    ),
)


@dataclass(frozen=True)
class Observation:
    """One follow-up reading. At least one of the two measures must be present."""

    date: date
    pain_now: float | None = None
    percent_relief: float | None = None


@dataclass(frozen=True)
class ReliefDuration:
    """How long relief lasted. ``days`` is None only when the case is not evaluable."""

    days: int | None
    event_observed: bool
    reason: str
    status: str

    @property
    def evaluable(self) -> bool:
        return self.days is not None


@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier estimate of relief over time for one group.

    Median and its confidence limits are None when the curve (or the limit)
    never falls to 50% within follow-up — "not reached", not zero.
    """

    median_days: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    timeline: tuple[float, ...]
    survival: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    n: int
    events: int
    not_evaluable: int


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_date(label: str, value: object, problems: list[str]) -> bool:
    # datetime is a subclass of date; a procedure day is a date (house style: clinical days are dates).
    if not isinstance(value, date) or isinstance(value, datetime):
        problems.append(f"{label} must be a date, got {value!r}")
        return False
    return True


def _input_problems(
    procedure_date: date,
    baseline_pain: float | None,
    observations: Sequence[Observation],
    follow_up_end: date | None,
    policy: ReliefPolicy,
) -> list[str]:
    problems: list[str] = []
    procedure_ok = _check_date("procedure_date", procedure_date, problems)
    if baseline_pain is not None and (
        not _is_number(baseline_pain) or not 0 < baseline_pain <= PAIN_SCALE_MAX
    ):
        problems.append(
            f"baseline_pain must be above 0 and at most {PAIN_SCALE_MAX} (no pain means nothing to relieve), "
            f"got {baseline_pain!r}"
        )
    if follow_up_end is not None and _check_date("follow_up_end", follow_up_end, problems) and procedure_ok:
        if follow_up_end < procedure_date:
            problems.append(f"follow_up_end {follow_up_end} is before the procedure on {procedure_date}")
    if policy.first_counted_day < 0:
        problems.append("policy.first_counted_day must not be negative")
    for index, obs in enumerate(observations):
        label = f"observation {index + 1}"
        if not isinstance(obs, Observation):
            problems.append(f"{label} must be an Observation, got {type(obs).__name__}")
            continue
        if _check_date(f"{label} date", obs.date, problems) and procedure_ok and obs.date < procedure_date:
            problems.append(f"{label} on {obs.date} is before the procedure on {procedure_date}")
        if obs.pain_now is None and obs.percent_relief is None:
            problems.append(f"{label} on {obs.date} has neither pain_now nor percent_relief")
        if obs.pain_now is not None:
            if not _is_number(obs.pain_now) or not 0 <= obs.pain_now <= PAIN_SCALE_MAX:
                problems.append(f"{label} pain_now must be 0-{PAIN_SCALE_MAX}, got {obs.pain_now!r}")
            elif baseline_pain is None and obs.percent_relief is None:
                problems.append(
                    f"{label} on {obs.date} has only pain_now, which needs a baseline_pain to judge"
                )
        if obs.percent_relief is not None and (
            not _is_number(obs.percent_relief) or not 0 <= obs.percent_relief <= PERCENT_MAX
        ):
            problems.append(f"{label} percent_relief must be 0-{PERCENT_MAX}, got {obs.percent_relief!r}")
    return problems


def _loss_reasons(obs: Observation, baseline_pain: float | None, policy: ReliefPolicy) -> list[str]:
    reasons: list[str] = []
    if obs.percent_relief is not None and obs.percent_relief < policy.min_relief_percent:
        reasons.append(f"relief {obs.percent_relief:g}% is below {policy.min_relief_percent:g}%")
    if obs.pain_now is not None and baseline_pain is not None:
        return_level = baseline_pain * policy.pain_return_fraction_of_baseline
        if obs.pain_now >= return_level:
            reasons.append(
                f"pain {obs.pain_now:g}/10 is back to {return_level:g}/10 (baseline {baseline_pain:g})"
            )
    return reasons


def relief_duration(
    procedure_date: date,
    baseline_pain: float | None,
    observations: Sequence[Observation],
    follow_up_end: date | None = None,
    policy: ReliefPolicy = DEFAULT_RELIEF_POLICY,
) -> ReliefDuration:
    """Duration of relief after one procedure, as defined in the module docstring.

    ``baseline_pain`` is the pre-procedure NRS (0-10, above 0); it may be None
    when every observation carries percent relief. Raises RuleInputError listing
    every problem with the inputs.
    """
    problems = _input_problems(procedure_date, baseline_pain, observations, follow_up_end, policy)
    if problems:
        raise RuleInputError(problems)

    counted = sorted(
        (
            obs
            for obs in observations
            if (obs.date - procedure_date).days >= policy.first_counted_day
            and (follow_up_end is None or obs.date <= follow_up_end)
        ),
        key=lambda obs: obs.date,
    )
    if not counted:
        return ReliefDuration(
            days=None,
            event_observed=False,
            reason=(
                f"not evaluable: no follow-up observation from day {policy.first_counted_day} after the "
                f"procedure on {procedure_date}"
                + (f" to {follow_up_end}" if follow_up_end is not None else "")
            ),
            status=NOT_EVALUABLE,
        )

    for obs in counted:
        reasons = _loss_reasons(obs, baseline_pain, policy)
        if reasons:
            day = (obs.date - procedure_date).days
            return ReliefDuration(
                days=day,
                event_observed=True,
                reason=f"relief lost by day {day} ({obs.date}): {'; '.join(reasons)}",
                status=RELIEF_ENDED,
            )

    last = counted[-1]
    day = (last.date - procedure_date).days
    return ReliefDuration(
        days=day,
        event_observed=False,
        reason=f"censored: relief still held at the last follow-up on day {day} ({last.date})",
        status=CENSORED,
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def kaplan_meier(
    groups: Mapping[str, Sequence[ReliefDuration]], confidence: float = 0.95
) -> dict[str, KMResult]:
    """Kaplan-Meier relief curve per group (e.g. per injectate or per clinic), with confidence intervals.

    Not-evaluable durations are left out and counted in ``not_evaluable``. A
    group with no evaluable duration raises RuleInputError: a curve of nobody
    is not a result.
    """
    problems: list[str] = []
    if not 0 < confidence < 1:
        problems.append(f"confidence must be between 0 and 1, got {confidence!r}")
    for name, durations in groups.items():
        if not any(isinstance(d, ReliefDuration) and d.evaluable for d in durations):
            problems.append(f"group {name!r} has no evaluable relief duration")
        wrong = [type(d).__name__ for d in durations if not isinstance(d, ReliefDuration)]
        if wrong:
            problems.append(
                f"group {name!r} holds non-ReliefDuration values: {', '.join(sorted(set(wrong)))}"
            )
    if problems:
        raise RuleInputError(problems)

    results: dict[str, KMResult] = {}
    for name, durations in groups.items():
        evaluable = [d for d in durations if d.evaluable]
        results[name] = _fit(
            str(name),
            [d.days for d in evaluable],
            [d.event_observed for d in evaluable],
            None,
            len(durations) - len(evaluable),
            confidence,
        )
    return results


@dataclass(frozen=True)
class DurationCount:
    """How many cases share one (days, event) pair: the compact form a registry stores."""

    days: int
    event_observed: bool
    count: int


def kaplan_meier_counts(
    groups: Mapping[str, Sequence[DurationCount]],
    confidence: float = 0.95,
    not_evaluable: Mapping[str, int] | None = None,
) -> dict[str, KMResult]:
    """The same estimate as :func:`kaplan_meier` from counted durations.

    A registry keeps "on day d, k cases lost relief and j were censored" rather
    than a million rows; lifelines takes those counts as case weights and gives
    the identical curve, band and median (tested against the expanded cases).
    """
    problems: list[str] = []
    if not 0 < confidence < 1:
        problems.append(f"confidence must be between 0 and 1, got {confidence!r}")
    for name, counts in groups.items():
        wrong = [c for c in counts if not isinstance(c, DurationCount)]
        if wrong:
            problems.append(f"group {name!r} holds values that are not DurationCount")
            continue
        bad = [c for c in counts if c.days < 0 or c.count < 0 or int(c.count) != c.count]
        if bad:
            problems.append(f"group {name!r} has negative days or non-whole counts: {bad[:3]}")
        if not any(c.count > 0 for c in counts):
            problems.append(f"group {name!r} has no evaluable relief duration")
    if problems:
        raise RuleInputError(problems)
    results: dict[str, KMResult] = {}
    for name, counts in groups.items():
        kept = [c for c in counts if c.count > 0]
        results[name] = _fit(
            str(name),
            [c.days for c in kept],
            [c.event_observed for c in kept],
            [int(c.count) for c in kept],
            (not_evaluable or {}).get(name, 0),
            confidence,
        )
    return results


def _fit(
    label: str,
    days: Sequence[int],
    events: Sequence[bool],
    weights: Sequence[int] | None,
    not_evaluable: int,
    confidence: float,
) -> KMResult:
    fitter = KaplanMeierFitter(alpha=1 - confidence)
    fitter.fit(list(days), event_observed=list(events), weights=None if weights is None else list(weights), label=label)
    band = fitter.confidence_interval_survival_function_
    median_band = median_survival_times(band)
    counts = weights if weights is not None else [1] * len(days)
    return KMResult(
        median_days=_finite_or_none(fitter.median_survival_time_),
        median_ci_low=_finite_or_none(median_band.iloc[0, 0]),
        median_ci_high=_finite_or_none(median_band.iloc[0, 1]),
        timeline=tuple(float(t) for t in fitter.timeline),
        survival=tuple(float(s) for s in fitter.survival_function_.iloc[:, 0]),
        ci_low=tuple(float(v) for v in band.iloc[:, 0]),
        ci_high=tuple(float(v) for v in band.iloc[:, 1]),
        n=int(sum(counts)),
        events=int(sum(c for c, e in zip(counts, events, strict=True) if e)),
        not_evaluable=not_evaluable,
    )
