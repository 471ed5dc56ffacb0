"""When each patient was last seen, supplied by the apps that record visits (all above patients).

The search results show a "last visit" so that three patients with one surname can be told apart.
Visits are recorded by apps above this one (assessment visits, signed procedure notes), so each of
them provides a reader here in its `AppConfig.ready`; patients never reads their tables. Readers
are asked only for the page of results (one query each), never for every match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

# name -> reader(patient primary keys) -> {patient pk: latest date}
_readers: dict[str, Callable[[list[int]], dict[int, date]]] = {}


def provide(name: str, reader: Callable[[list[int]], dict[int, date]]) -> None:
    _readers[name] = reader


def last_visit_dates(patient_ids: Iterable[int]) -> dict[int, date]:
    """The latest visit of each patient over every provider (patients never seen are absent)."""
    ids = list(patient_ids)
    latest: dict[int, date] = {}
    if not ids:
        return latest
    for reader in _readers.values():
        for pk, day in reader(ids).items():
            if day is not None and (pk not in latest or day > latest[pk]):
                latest[pk] = day
    return latest
