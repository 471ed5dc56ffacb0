"""Repeat-injection eligibility: does the next trigger point injection meet the clinic's payer policy?

Shown to the physician *before* the next procedure, so a repeat that a payer
will refuse (too soon, too many, relief not documented) is caught while it can
still be planned differently. Each criterion is its own rule with a stable id,
a version and a basis naming the policy it came from; a criterion whose
threshold is None in the policy is off and says nothing.

Definitions (applied identically to every payer preset):

* **Same area** is the billing anatomical region (``cervical``, ``lumbar``, ...).
* **Reference session** for a planned region is the most recent earlier session
  that treated that region. Relief criteria (percent, duration, function) are
  read from it. A region never treated before is a first injection there, so
  the relief criteria do not apply to it (an ``info`` finding says so).
* **12 months / per year** is a rolling window: an earlier session counts if it
  took place 1 to ``window_days`` (365) days before the planned date — a session
  365 days earlier counts, one 366 days earlier does not. The planned session
  counts toward the limit, so with a limit of 3 and three sessions already in the
  window, the planned one would be the 4th and is not eligible.
* **Missing documentation fails.** A reference session with no documented
  relief, duration or functional improvement fails that criterion with a message;
  it never passes silently.

The timing criteria (interval in the same area, sessions in the rolling window, the window itself)
are decided by the one repeat-timing rule, ``catalogues.repeat_limits``, which the coder's payer
rules (procedures) use too; this module words them as RPT-* findings.

Presets for payers live in ``data/repeat_policies.yaml`` (schema-validated),
with sources from the domain sheet §1.4–1.5 and §7.1; reading them, and the policy type, is
``repeat_policies`` (which this module imports, never the other way).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from numbers import Real
from typing import Any

from triggerpoint.atlas.catalog import BODY_REGION_LABELS
from triggerpoint.catalogues.repeat_limits import (
    REGION_SESSIONS,
    SESSIONS,
    count_check,
    in_window,
    interval_check,
)
from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.outcomes.repeat_policies import DEFAULT_REPEAT_POLICY, RepeatPolicy

# The billing anatomical regions are the atlas's (Muscle.body_region): one vocabulary.
BODY_REGIONS = tuple(BODY_REGION_LABELS)

MET = "met"
NOT_MET = "not_met"
INFO = "info"

# The criteria about *when* a session may be held (interval in the same area, sessions in a rolling
# year), as against the relief and function it must have documented: the worklist's "Repeat" chip
# shows these on the day of a procedure; the outcomes page shows them all.
TIMING_RULES = frozenset({"RPT-INTERVAL-6W", "RPT-MAX-3-12M", "RPT-MAX-REGION-YEAR"})

@dataclass(frozen=True)
class PriorSession:
    """An earlier TPI session (all procedures on one day), as documented."""

    date: date
    body_regions: frozenset[str]
    muscles: frozenset[str] = frozenset()
    relief_percent: float | None = None
    relief_duration_days: int | None = None
    functional_improvement_percent: float | None = None


@dataclass(frozen=True)
class RepeatDecision:
    eligible: bool
    findings: tuple[Finding, ...]
    policy: str = field(default=DEFAULT_REPEAT_POLICY.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "policy": self.policy,
            "findings": [finding.as_dict() for finding in self.findings],
        }


# --------------------------------------------------------------------------- rules


def repeat_rules(policy: RepeatPolicy = DEFAULT_REPEAT_POLICY) -> dict[str, Rule]:
    """Every repeat rule with its basis worded for this policy's thresholds."""
    applied = f"Policy applied: {policy.name}."

    def rule(rule_id: str, title: str, basis: str) -> Rule:
        return Rule(id=rule_id, version=1, title=title, basis=f"{basis} {applied}", sources=policy.sources)

    return {
        "RPT-FIRST-IN-REGION": rule(
            "RPT-FIRST-IN-REGION",
            "First injection in this region",
            "Relief criteria for a repeat injection apply only to a region treated before.",
        ),
        "RPT-RELIEF-50": rule(
            "RPT-RELIEF-50",
            "Relief after the last session",
            f"A repeat injection needs documented relief of at least {policy.min_relief_percent:g}% after the "
            "last injection in the same region, on the same pain scale as at baseline; vague statements are "
            "insufficient."
            if policy.min_relief_percent is not None
            else "Off in this policy.",
        ),
        "RPT-RELIEF-6W": rule(
            "RPT-RELIEF-6W",
            "Duration of relief after the last session",
            f"That relief must have lasted at least {policy.min_relief_duration_weeks} weeks, with the dates of "
            "the measurements documented."
            if policy.min_relief_duration_weeks is not None
            else "Off in this policy.",
        ),
        "RPT-FUNCTION-50": rule(
            "RPT-FUNCTION-50",
            "Functional improvement after the last session",
            f"A repeat injection needs at least {policy.min_functional_improvement_percent:g}% improvement in "
            "function on a validated scale."
            if policy.min_functional_improvement_percent is not None
            else "Off in this policy.",
        ),
        "RPT-INTERVAL-6W": rule(
            "RPT-INTERVAL-6W",
            "Interval since the same region was treated",
            f"At least {policy.min_weeks_since_same_area} weeks must pass before the same region is injected "
            "again."
            if policy.min_weeks_since_same_area is not None
            else "Off in this policy.",
        ),
        "RPT-MAX-3-12M": rule(
            "RPT-MAX-3-12M",
            "Sessions in a rolling 12 months",
            f"No more than {policy.max_sessions_per_12_months} sessions in any rolling {policy.window_days} "
            "days, the planned session included."
            if policy.max_sessions_per_12_months is not None
            else "Off in this policy.",
        ),
        "RPT-MAX-REGION-YEAR": rule(
            "RPT-MAX-REGION-YEAR",
            "Sessions per region in a rolling year",
            f"No more than {policy.max_sessions_per_region_per_year} sessions in the same region in any rolling "
            f"{policy.window_days} days, the planned session included."
            if policy.max_sessions_per_region_per_year is not None
            else "Off in this policy.",
        ),
    }


# --------------------------------------------------------------------------- input checks


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _region_problems(label: str, regions: object) -> list[str]:
    if isinstance(regions, str) or not isinstance(regions, Iterable):
        return [f"{label} must be a set of body regions, got {regions!r}"]
    regions = list(regions)
    if not regions:
        return [f"{label} names no body region; allowed: {', '.join(BODY_REGIONS)}"]
    unknown = sorted({str(r) for r in regions if r not in BODY_REGIONS})
    if unknown:
        return [f"{label} has unknown body regions {', '.join(unknown)}; allowed: {', '.join(BODY_REGIONS)}"]
    return []


def _policy_problems(policy: RepeatPolicy) -> list[str]:
    problems = []
    if not isinstance(policy, RepeatPolicy):
        return [f"policy must be a RepeatPolicy, got {type(policy).__name__}"]
    if not (isinstance(policy.window_days, int) and policy.window_days > 0):
        problems.append(f"policy.window_days must be a positive whole number, got {policy.window_days!r}")
    for name in (
        "min_relief_percent",
        "min_relief_duration_weeks",
        "min_functional_improvement_percent",
        "min_weeks_since_same_area",
        "max_sessions_per_12_months",
        "max_sessions_per_region_per_year",
    ):
        value = getattr(policy, name)
        if value is not None and (not _is_number(value) or value < 0):
            problems.append(f"policy.{name} must be a non-negative number or None, got {value!r}")
    return problems


def _session_problems(index: int, session: object, planned_date: date) -> list[str]:
    label = f"history session {index + 1}"
    if not isinstance(session, PriorSession):
        return [f"{label} must be a PriorSession, got {type(session).__name__}"]
    problems: list[str] = []
    if not _is_date(session.date):
        problems.append(f"{label} date must be a date, got {session.date!r}")
    elif _is_date(planned_date) and session.date >= planned_date:
        problems.append(
            f"{label} on {session.date} is not before the planned date {planned_date}; "
            "history holds earlier sessions only"
        )
    problems += _region_problems(f"{label} body_regions", session.body_regions)
    for name, low, high in (
        ("relief_percent", 0, 100),
        ("functional_improvement_percent", -math.inf, 100),
        ("relief_duration_days", 0, math.inf),
    ):
        value = getattr(session, name)
        if value is not None and (not _is_number(value) or not low <= value <= high):
            problems.append(f"{label} {name} must be a number from {low} to {high} or None, got {value!r}")
    return problems


def _input_problems(
    history: Sequence[PriorSession],
    planned_date: date,
    planned_body_regions: Iterable[str],
    policy: RepeatPolicy,
) -> list[str]:
    problems: list[str] = []
    if not _is_date(planned_date):
        problems.append(f"planned_date must be a date, got {planned_date!r}")
    problems += _region_problems("planned_body_regions", planned_body_regions)
    problems += _policy_problems(policy)
    for index, session in enumerate(history):
        problems += _session_problems(index, session, planned_date)
    dates = [s.date for s in history if isinstance(s, PriorSession)]
    repeated = sorted({d for d in dates if dates.count(d) > 1}, key=str)
    if repeated:
        problems.append(
            f"more than one history session on {', '.join(map(str, repeated))}; "
            "a session is all procedures on one day, so merge them"
        )
    return problems


# --------------------------------------------------------------------------- evaluation


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _regions_text(regions: Iterable[str]) -> str:
    names = sorted(regions)
    return f"the {' and '.join(names)} region{'s' if len(names) > 1 else ''}"


def _in_window(session: PriorSession, planned_date: date, policy: RepeatPolicy) -> bool:
    return in_window((planned_date - session.date).days, policy.window_days)


def _count(allowed: float, earlier: list[PriorSession], criterion: str) -> tuple[int, bool]:
    """The planned session's number in the window and whether the policy allows it (`repeat_limits.count_check`)."""
    check = count_check(allowed, len(earlier), criterion)
    return check.value, check.met


def _relief_findings(
    rules: dict[str, Rule], session: PriorSession, regions: list[str], policy: RepeatPolicy
) -> list[Finding]:
    findings: list[Finding] = []
    where = f"last session in {_regions_text(regions)} on {session.date}"
    data = {
        "session_date": session.date.isoformat(),
        "regions": sorted(regions),
        "muscles": sorted(session.muscles),
    }

    if policy.min_relief_percent is not None:
        rule = rules["RPT-RELIEF-50"]
        required = f"policy requires at least {policy.min_relief_percent:g}%"
        if session.relief_percent is None:
            findings.append(
                Finding.of(rule, NOT_MET, f"{where}: no percent relief documented; {required}", **data)
            )
        else:
            met = session.relief_percent >= policy.min_relief_percent
            findings.append(
                Finding.of(
                    rule,
                    MET if met else NOT_MET,
                    f"{where}: {session.relief_percent:g}% relief documented"
                    + ("" if met else f"; {required}"),
                    relief_percent=session.relief_percent,
                    **data,
                )
            )

    if policy.min_relief_duration_weeks is not None:
        rule = rules["RPT-RELIEF-6W"]
        required_days = policy.min_relief_duration_weeks * 7
        required = f"policy requires at least {required_days} days ({policy.min_relief_duration_weeks} weeks)"
        if session.relief_duration_days is None:
            findings.append(
                Finding.of(rule, NOT_MET, f"{where}: duration of relief not documented; {required}", **data)
            )
        else:
            met = session.relief_duration_days >= required_days
            findings.append(
                Finding.of(
                    rule,
                    MET if met else NOT_MET,
                    f"{where}: relief lasted {session.relief_duration_days} days"
                    + ("" if met else f"; {required}"),
                    relief_duration_days=session.relief_duration_days,
                    **data,
                )
            )

    if policy.min_functional_improvement_percent is not None:
        rule = rules["RPT-FUNCTION-50"]
        required = f"policy requires at least {policy.min_functional_improvement_percent:g}%"
        if session.functional_improvement_percent is None:
            findings.append(
                Finding.of(
                    rule, NOT_MET, f"{where}: functional improvement not documented; {required}", **data
                )
            )
        else:
            met = session.functional_improvement_percent >= policy.min_functional_improvement_percent
            findings.append(
                Finding.of(
                    rule,
                    MET if met else NOT_MET,
                    f"{where}: {session.functional_improvement_percent:g}% functional improvement documented"
                    + ("" if met else f"; {required}"),
                    functional_improvement_percent=session.functional_improvement_percent,
                    **data,
                )
            )
    return findings


def evaluate_repeat(
    history: Sequence[PriorSession],
    planned_date: date,
    planned_body_regions: Iterable[str],
    policy: RepeatPolicy = DEFAULT_REPEAT_POLICY,
) -> RepeatDecision:
    """Whether a planned session meets the repeat-injection policy, criterion by criterion.

    Eligible when no finding is ``not_met``. Raises RuleInputError listing
    every problem with the inputs (unknown regions, sessions not before the
    planned date, two sessions on one day, out-of-range values).
    """
    # A string or a non-iterable is kept as it came, so _input_problems names it (never a bare TypeError).
    iterable = isinstance(planned_body_regions, Iterable) and not isinstance(planned_body_regions, str)
    planned_regions = list(planned_body_regions) if iterable else planned_body_regions
    problems = _input_problems(history, planned_date, planned_regions, policy)
    if problems:
        raise RuleInputError(problems)

    rules = repeat_rules(policy)
    planned = sorted(set(planned_regions))
    ordered = sorted(history, key=lambda s: s.date)
    findings: list[Finding] = []

    # Reference session per planned region: the latest earlier session that treated it.
    last_in_region: dict[str, PriorSession] = {}
    for region in planned:
        treated = [s for s in ordered if region in s.body_regions]
        if treated:
            last_in_region[region] = treated[-1]
        else:
            findings.append(
                Finding.of(
                    rules["RPT-FIRST-IN-REGION"],
                    INFO,
                    f"no earlier session in the {region} region: relief criteria for a repeat do not apply",
                    region=region,
                )
            )

    regions_by_session: dict[date, list[str]] = {}
    for region, session in last_in_region.items():
        regions_by_session.setdefault(session.date, []).append(region)
    for session_date in sorted(regions_by_session):
        session = next(s for s in ordered if s.date == session_date)
        findings += _relief_findings(rules, session, regions_by_session[session_date], policy)

    if policy.min_weeks_since_same_area is not None:
        required_days = policy.min_weeks_since_same_area * 7
        for region, session in last_in_region.items():
            days = (planned_date - session.date).days
            met = interval_check(required_days, days).met
            message = (
                f"{days} days since the {region} region was treated on {session.date}"
                if met
                else f"only {days} days since the {region} region was treated on {session.date}; "
                f"policy requires {required_days}"
            )
            findings.append(
                Finding.of(
                    rules["RPT-INTERVAL-6W"],
                    MET if met else NOT_MET,
                    message,
                    region=region,
                    days_since=days,
                    required_days=required_days,
                    earliest_date=(session.date + timedelta(days=required_days)).isoformat(),
                )
            )

    window_start = planned_date - timedelta(days=policy.window_days)
    in_window_sessions = [s for s in ordered if _in_window(s, planned_date, policy)]
    if policy.max_sessions_per_12_months is not None:
        allowed = policy.max_sessions_per_12_months
        nth, met = _count(allowed, in_window_sessions, SESSIONS)
        earlier = ", ".join(str(s.date) for s in in_window_sessions) or "none"
        findings.append(
            Finding.of(
                rules["RPT-MAX-3-12M"],
                MET if met else NOT_MET,
                f"the planned session would be the {_ordinal(nth)} from {window_start} "
                f"(earlier: {earlier}); policy allows {allowed} in {policy.window_days} days",
                session_number=nth,
                allowed=allowed,
                window_start=window_start.isoformat(),
                counted_sessions=[s.date.isoformat() for s in in_window_sessions],
            )
        )

    if policy.max_sessions_per_region_per_year is not None:
        allowed = policy.max_sessions_per_region_per_year
        for region in planned:
            in_region = [s for s in in_window_sessions if region in s.body_regions]
            nth, met = _count(allowed, in_region, REGION_SESSIONS)
            findings.append(
                Finding.of(
                    rules["RPT-MAX-REGION-YEAR"],
                    MET if met else NOT_MET,
                    f"the planned session would be the {_ordinal(nth)} in the {region} region from {window_start}; "
                    f"policy allows {allowed} in {policy.window_days} days",
                    region=region,
                    session_number=nth,
                    allowed=allowed,
                    window_start=window_start.isoformat(),
                    counted_sessions=[s.date.isoformat() for s in in_region],
                )
            )

    return RepeatDecision(
        eligible=not any(f.severity == NOT_MET for f in findings),
        findings=tuple(findings),
        policy=policy.id,
    )
