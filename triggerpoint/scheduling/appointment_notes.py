"""The note written for each appointment, supplied by the procedures app (one layer up).

A procedure note records the appointment it was written for (`procedures.Procedure.appointment`);
the day view links a row to its note. Scheduling sits below procedures, so procedures provides
the reader in its `AppConfig.ready` and scheduling never reads its tables. Without a provider
there are no links (a schedule without procedure notes still works).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# reader(appointment primary keys) -> {appointment pk: the note's address}
_reader: list[Callable[[list[int]], dict[int, str]]] = []


def provide(reader: Callable[[list[int]], dict[int, str]]) -> None:
    _reader[:] = [reader]


def note_urls(appointment_ids: Iterable[int]) -> dict[int, str]:
    """appointment pk -> the address of its note, for the appointments that have one (one query)."""
    ids = list(appointment_ids)
    if not ids or not _reader:
        return {}
    return _reader[0](ids)
