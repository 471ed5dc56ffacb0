"""How soon and how often a trigger point injection session may be repeated: the payer's timing limits, once.

Two rule families apply a payer's repeat limits and both decide them here (before, each wrote the
comparisons itself):

* the coder's payer rules (`procedures.payer_rules`: ``PAYER-INTERVAL-SAME-REGION``,
  ``PAYER-FREQ-12M``, ``PAYER-FREQ-REGION-12M``; thresholds in ``procedures/data/payers.yaml``),
  which warn the coder, stop signing until a physician overrides and show on the screening result;
* the repeat-injection policy (`outcomes.repeat`: ``RPT-INTERVAL-6W``, ``RPT-MAX-3-12M``,
  ``RPT-MAX-REGION-YEAR``; thresholds in ``outcomes/data/repeat_policies.yaml``), shown on the
  outcomes page and the worklist's "Repeat" chip.

Each keeps its rule ids, versions, wording and sources; the decision is this module's
(`TIMING_RULE` names it, version 1):

* **Interval in the same area**: met when the days since that area was last treated are at least
  the minimum (42 days = 6 weeks: 41 is too soon, 42 is not).
* **Sessions in a rolling window**: the planned session counts, so it is met when the earlier
  sessions in the window plus one are at most the maximum (limit 3: two earlier is fine, three is not).
  The same for one area's sessions.
* **The rolling window** (`in_window`): an earlier session counts when it took place 1 to
  ``window_days`` (365) days before the planned date; a session 365 days earlier counts, one 366
  days earlier does not, and the planned day itself is never "earlier".
* A limit of None is off and says nothing; an unknown history (None) is not checked here (the
  caller says so).

Pure: no ORM, no I/O. The thresholds are the callers' payer tables, passed in as `RepeatLimits`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from triggerpoint.core.rules import Rule, RuleInputError

TIMING_RULE = Rule(
    id="REPEAT-TIMING",
    version=1,
    title="Repeat timing: interval in the same area, sessions in a rolling window",
    basis="A payer limits how soon the same area may be injected again and how many sessions (the planned one "
    "included) it covers in a rolling window; the thresholds are the payer's.",
    sources=("procedures/data/payers.yaml", "outcomes/data/repeat_policies.yaml"),
)

INTERVAL = "interval"  # days since the same area was treated, against the minimum
SESSIONS = "sessions"  # sessions in the window, the planned one included, against the maximum
REGION_SESSIONS = "region_sessions"  # the same, in one area


@dataclass(frozen=True)
class RepeatLimits:
    """A payer's timing limits, in days and sessions (None: no such limit)."""

    min_days_same_region: float | None = None  # a policy in weeks may give e.g. 6.5 weeks = 45.5 days
    max_sessions_in_window: float | None = None
    max_region_sessions_in_window: float | None = None
    window_days: int = 365


@dataclass(frozen=True)
class LimitCheck:
    """One timing criterion decided: `value` is the days since (interval) or the planned session's number
    in the window (the earlier ones plus one); `limit` the minimum days or the maximum sessions."""

    criterion: str
    met: bool
    value: int
    limit: float


def _whole(name: str, value: object) -> list[str]:
    """A count or a number of days: a whole number from 0, or None (unknown)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return []
    return [f"{name} must be a whole number from 0 or None, got {value!r}"]


def _limit(name: str, value: object) -> list[str]:
    """A threshold: a non-negative number, or None (no such limit)."""
    if value is None or (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0):
        return []
    return [f"{name} must be a non-negative number or None, got {value!r}"]


def in_window(days_before: int, window_days: int = 365) -> bool:
    """Does an earlier session `days_before` the planned date count in the rolling window? (1 to window_days)"""
    return 1 <= days_before <= window_days


def interval_check(min_days: float | None, days_since: int | None) -> LimitCheck | None:
    """The same area again after `days_since` days: met when at least `min_days` (None: not checked)."""
    problems = _limit("min_days", min_days) + _whole("days_since", days_since)
    if problems:
        raise RuleInputError(problems)
    if min_days is None or days_since is None:
        return None
    return LimitCheck(INTERVAL, days_since >= min_days, days_since, min_days)


def count_check(max_sessions: float | None, earlier_in_window: int | None, criterion: str = SESSIONS) -> LimitCheck | None:
    """The planned session after `earlier_in_window` sessions in the window: met when it is at most the
    `max_sessions`-th (None: not checked)."""
    problems = _limit("max_sessions", max_sessions) + _whole("earlier_in_window", earlier_in_window)
    if problems:
        raise RuleInputError(problems)
    if max_sessions is None or earlier_in_window is None:
        return None
    planned = earlier_in_window + 1
    return LimitCheck(criterion, planned <= max_sessions, planned, max_sessions)


def timing_checks(
    limits: RepeatLimits,
    *,
    earlier_in_window: int | None = None,
    earlier_in_region_in_window: int | None = None,
    days_since_same_region: int | None = None,
) -> tuple[LimitCheck, ...]:
    """Every timing criterion that has a limit and a known history, in the order sessions, area sessions, interval."""
    found = (
        count_check(limits.max_sessions_in_window, earlier_in_window, SESSIONS),
        count_check(limits.max_region_sessions_in_window, earlier_in_region_in_window, REGION_SESSIONS),
        interval_check(limits.min_days_same_region, days_since_same_region),
    )
    return tuple(check for check in found if check is not None)
