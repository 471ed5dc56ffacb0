"""Who is paged for an alert, and when an unacknowledged alert escalates.

A paged clinician may be driving, asleep or in a procedure. If nobody acknowledges an
alert within the clinic's window (default 15 minutes, issue 8) the page moves on:

* level 0 (the alert is raised): the first person on call now;
* level n ≥ 1 (each missed deadline): the next person on the on-call order AND the
  physician who did the procedure, who knows what was injected where;
* once everyone on the order has been paged, every further deadline pages the whole
  order and the physician again, until someone acknowledges. An emergency does not
  stop being one because the rota ran out.

With nobody on call (no schedule, or nobody covering this hour) the performing
physician is paged at level 0, so an alert never goes to no one.

Pure module: no Django, no ORM, no HTTP. People are opaque hashable ids.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

Person = TypeVar("Person", bound=Hashable)


@dataclass(frozen=True)
class EscalationPolicy:
    """The one number escalation uses; a clinic stores its own in its on-call schedule."""

    acknowledge_within: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.acknowledge_within <= timedelta(0):
            raise ValueError("the acknowledgement window must be positive")


DEFAULT_POLICY = EscalationPolicy()


@dataclass(frozen=True)
class PageTarget:
    """One person to page and why (shown in the alert's page log)."""

    person: Hashable
    reason: str  # on_call | next_on_call | whole_rota | performing_physician | no_one_on_call


def targets_for_level(
    level: int, on_call: Sequence[Person], performing_physician: Person | None
) -> list[PageTarget]:
    """Whom to page at escalation `level` (0 = when the alert is raised), without duplicates."""
    if level < 0:
        raise ValueError("escalation level cannot be negative")
    targets: list[PageTarget] = []
    seen: set[Hashable] = set()

    def add(person: Hashable | None, reason: str) -> None:
        if person is not None and person not in seen:
            seen.add(person)
            targets.append(PageTarget(person, reason))

    if not on_call:
        add(performing_physician, "no_one_on_call")
        return targets
    if level == 0:
        add(on_call[0], "on_call")
        return targets
    if level < len(on_call):
        add(on_call[level], "next_on_call")
    else:
        for person in on_call:
            add(person, "whole_rota")
    add(performing_physician, "performing_physician")
    return targets


def next_deadline(paged_at: datetime, policy: EscalationPolicy = DEFAULT_POLICY) -> datetime:
    """When the alert escalates if still unacknowledged (the window runs from the latest page)."""
    if paged_at.tzinfo is None or paged_at.utcoffset() is None:
        raise ValueError("paged_at must be timezone-aware")
    return paged_at + policy.acknowledge_within


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """True when `now` has reached the deadline (at the deadline itself the alert escalates)."""
    return deadline is not None and now >= deadline
