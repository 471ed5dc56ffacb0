"""The audit trail's hash chain: each event commits to its content and to the event before it.

Triggers make the database refuse UPDATE and DELETE of audit rows, but whoever
controls the database can lift a trigger, change a row and put the trigger back.
The chain makes that detectable (ONC 170.315(d)(10), "tamper-resistance"):
every event stores ``hash = SHA-256(canonical content + prev_hash)`` where
``prev_hash`` is the hash of the previous event *of the same chain*. A chain is
one clinic's events (events without a clinic form a chain of their own), so
clinics never wait on each other's lock. ``chain_seq`` numbers the events of a
chain 1, 2, 3 … so a deleted row shows as a gap as well as a broken link, and the
chain head (one row per chain) stores the last number and hash so deleting the
newest events is caught too.

Appending reads and advances the head under a row lock (``SELECT … FOR UPDATE``
on PostgreSQL; SQLite runs IMMEDIATE transactions, so writers are already
serialised). The lock is held until the surrounding transaction ends: keep
transactions that write audit events short.

The serialisation below is part of the stored data: changing it breaks every
existing chain. It is therefore versioned (``CHAIN_VERSION``), deliberately
plain, and normalises the values a database may hand back in another spelling
(IPv6 text, JSON numbers, time zones). The chain needs no secret: it proves
that the trail is intact *relative to its head*. An operator who records the
heads that ``triggerpoint audit verify`` prints (in a ticket, an e-mail, a WORM
store) can also detect a wholesale rewrite of a chain by a database superuser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

CHAIN_VERSION = 1
GENESIS_HASH = "0" * 64  # prev_hash of the first event of every chain
SYSTEM_CHAIN = "system"  # events that belong to no clinic (sign-in failures, system jobs)


def chain_key(clinic_id: int | None) -> str:
    return f"clinic:{clinic_id}" if clinic_id is not None else SYSTEM_CHAIN


def _canonical_json(value: Any) -> Any:
    """JSON values in one spelling: integral numbers as integers (PostgreSQL's jsonb turns 1e20 into an integer)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, dict):
        return {str(k): _canonical_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_json(v) for v in value]
    return str(value)


def _canonical_ip(ip: str | None) -> str:
    if not ip:
        return ""
    try:
        return ipaddress.ip_address(ip).exploded
    except ValueError:
        return str(ip)


def _canonical_time(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite without USE_TZ would hand back naive UTC; the project stores UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_hash(event: Any, prev_hash: str) -> str:
    """SHA-256 over the event's content and the previous event's hash (hex)."""
    content = {
        "v": CHAIN_VERSION,
        "seq": event.chain_seq,
        "at": _canonical_time(event.at),
        "actor": event.actor_id,
        "actor_label": event.actor_label or "",
        "action": event.action or "",
        "object_type": event.object_type or "",
        "object_id": event.object_id or "",
        "patient": event.patient_id,
        "clinic": event.clinic_id,
        "ip": _canonical_ip(event.ip),
        "request_id": event.request_id or "",
        "details": _canonical_json(event.details or {}),
        "prev": prev_hash,
    }
    serialised = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(serialised.encode("ascii")).hexdigest()


def link(events: list[Any], last_seq: int, last_hash: str) -> tuple[int, str]:
    """Give each event (same chain, in order) its place and hashes; return the new (last_seq, last_hash)."""
    for event in events:
        last_seq += 1
        event.chain_seq = last_seq
        event.prev_hash = last_hash
        event.hash = content_hash(event, last_hash)
        last_hash = event.hash
    return last_seq, last_hash


@dataclass(frozen=True)
class Break:
    """The first place a chain stops adding up."""

    chain: str
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event id {self.event_id} (seq {self.seq})" if self.event_id is not None else f"seq {self.seq}"
        return f"{self.chain}: {where}: {self.problem}"


def first_break(chain: str, events: Iterable[Any], head_seq: int | None, head_hash: str | None) -> Break | None:
    """Walk one chain's events in ``chain_seq`` order and return the first broken link, or None.

    Detects: an edited row (its hash no longer matches its content), a deleted row
    (a gap in the numbering and a prev_hash that points elsewhere), an inserted
    or re-ordered row, and deleted newest rows (the head is ahead of the last row).
    """
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in events:
        if event.chain_seq != expected_seq:
            missing = "missing" if (event.chain_seq or 0) > expected_seq else "duplicated or out of order"
            return Break(chain, expected_seq, event.pk, f"event seq {expected_seq} is {missing}")
        if event.prev_hash != expected_prev:
            return Break(chain, event.chain_seq, event.pk, "prev_hash does not match the previous event's hash")
        if event.hash != content_hash(event, event.prev_hash):
            return Break(chain, event.chain_seq, event.pk, "content does not match its hash (edited)")
        expected_seq, expected_prev = expected_seq + 1, event.hash
    last_seq = expected_seq - 1
    if head_seq is not None and (head_seq != last_seq or head_hash != expected_prev):
        return Break(
            chain, last_seq + 1, None,
            f"chain head says {head_seq} events ending in {str(head_hash)[:12]}…, "
            f"the table holds {last_seq} ending in {expected_prev[:12]}… (newest events deleted?)",
        )
    return None


def iter_chain(queryset, clinic_id: int | None) -> Iterator[Any]:
    """One chain's events in order, streamed (the trail can be large)."""
    rows = queryset.filter(clinic_id=clinic_id) if clinic_id is not None else queryset.filter(clinic__isnull=True)
    return rows.order_by("chain_seq", "id").iterator(chunk_size=2000)
