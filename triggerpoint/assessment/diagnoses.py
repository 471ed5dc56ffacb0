"""Find and check the ICD-10-CM diagnosis codes recorded at an assessment visit.

A claim with a category header (M54.5 after 2021-10-01, M79.1 after 2022-10-01) or
a code not yet in force on the date of service is rejected by the payer, and the
rejection arrives weeks later. So the visit checks every code against the date of
service *now* and, for a header, offers the billable codes beneath it.

The table is a curated subset (``data/icd10cm.yaml``), not the full code set: an
unknown code is refused with a pointer to search, rather than accepted unchecked.
Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from triggerpoint.assessment._data import AssessmentDataError, load_document
from triggerpoint.core.rules import RuleInputError

_SEPARATORS = re.compile(r"[\s.]+")
_WORD = re.compile(r"[a-z0-9]+")
_CODE_LIKE = re.compile(r"^[A-Z][0-9][0-9A-Z]")


@dataclass(frozen=True)
class IcdCode:
    code: str
    description: str
    billable: bool
    parent: str
    effective_from: date
    billable_until: date | None
    notes: str
    search_terms: tuple[str, ...]
    sources: tuple[str, ...]

    def in_force_on(self, on_date: date) -> bool:
        return on_date >= self.effective_from

    def billable_on(self, on_date: date) -> bool:
        """Billable on the date: a current leaf, or a former leaf before it became a header."""
        if not self.in_force_on(on_date):
            return False
        return self.billable or (self.billable_until is not None and on_date <= self.billable_until)


class IcdTable:
    """The curated code table with its search index."""

    def __init__(self, codes: Mapping[str, IcdCode], sources: Mapping[str, str]):
        self.codes: dict[str, IcdCode] = dict(codes)
        self.sources: dict[str, str] = dict(sources)
        self._children: dict[str, list[str]] = {}
        for entry in self.codes.values():
            self._children.setdefault(entry.parent, []).append(entry.code)
        self._words = {code: self._words_of(entry) for code, entry in self.codes.items()}

    @staticmethod
    def _words_of(entry: IcdCode) -> frozenset[str]:
        text = " ".join((entry.description, entry.notes, *entry.search_terms)).casefold()
        return frozenset(_WORD.findall(text))

    def get(self, code: str) -> IcdCode:
        """The entry for `code` (any spelling `normalise_code` accepts); KeyError if absent."""
        return self.codes[normalise_code(code)]

    def children(self, code: str) -> tuple[IcdCode, ...]:
        return tuple(self.codes[child] for child in sorted(self._children.get(code, ())))

    def billable_descendants(self, code: str, on_date: date) -> tuple[IcdCode, ...]:
        """Codes under `code` (at any depth) that are billable on `on_date`."""
        found: list[IcdCode] = []
        for child in self.children(code):
            if child.billable_on(on_date):
                found.append(child)
            found.extend(self.billable_descendants(child.code, on_date))
        return tuple(found)

    def search(self, query: str, limit: int = 10, *, on_date: date | None = None) -> tuple[IcdCode, ...]:
        return search_codes(query, limit, on_date=on_date, table=self)


def normalise_code(raw: str) -> str:
    """Upper-case, drop spaces, and put the dot after the category: ``m545`` → ``M54.5``."""
    if not isinstance(raw, str):
        raise RuleInputError(f"an ICD-10-CM code must be text, not {raw!r}")
    compact = _SEPARATORS.sub("", raw).upper()
    if len(compact) <= 3:
        return compact
    return f"{compact[:3]}.{compact[3:]}"


def build_icd_table(document: Mapping[str, Any]) -> IcdTable:
    """Build the table, checking what the schema cannot (every problem at once)."""
    problems: list[str] = []
    sources = {source["id"]: source["citation"] for source in document["sources"]}
    codes: dict[str, IcdCode] = {}
    for row in document["codes"]:
        code = row["code"]
        if code in codes:
            problems.append(f"duplicate code {code}")
        unknown_sources = [source for source in row["sources"] if source not in sources]
        if unknown_sources:
            problems.append(f"{code}: unknown source(s) {', '.join(unknown_sources)}")
        billable_until = date.fromisoformat(row["billable_until"]) if "billable_until" in row else None
        effective_from = date.fromisoformat(row["effective_from"])
        if billable_until is not None and (row["billable"] or billable_until < effective_from):
            problems.append(
                f"{code}: billable_until is only for a header that was billable after it took effect"
            )
        codes[code] = IcdCode(
            code=code,
            description=row["description"],
            billable=row["billable"],
            parent=row["parent"],
            effective_from=effective_from,
            billable_until=billable_until,
            notes=row.get("notes", ""),
            search_terms=tuple(row.get("search_terms", ())),
            sources=tuple(row["sources"]),
        )
    table = IcdTable(codes, sources)
    for entry in codes.values():
        if not entry.code.startswith(entry.parent.replace(".", "")[:3]):
            problems.append(f"{entry.code}: parent {entry.parent} is not in the same category")
        if not entry.billable and not table.children(entry.code):
            problems.append(f"{entry.code}: a header must list its billable children in the table")
    if problems:
        raise AssessmentDataError(problems)
    return table


@functools.lru_cache(maxsize=1)
def load_icd_table() -> IcdTable:
    """The shipped, schema-validated table; cached (it is immutable)."""
    return build_icd_table(load_document("icd10cm.yaml", "icd10cm.schema.json"))


def search_codes(
    query: str,
    limit: int = 10,
    *,
    on_date: date | None = None,
    table: IcdTable | None = None,
) -> tuple[IcdCode, ...]:
    """Codes matching `query`, best first.

    A query that looks like a code (letter, digit, then a digit or letter) matches by
    code prefix only (``m79.1`` finds M79.1 and its children; exact match first). Otherwise every word of the query must start a
    word of the description, notes or search terms. Billable codes rank before
    headers. With `on_date`, codes not yet in force on that date are left out.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise RuleInputError(f"limit must be a whole number of at least 1, not {limit!r}")
    if not isinstance(query, str):
        raise RuleInputError(f"query must be text, not {query!r}")
    table = table if table is not None else load_icd_table()
    words = _WORD.findall(query.casefold())
    if not words:
        return ()
    as_code = normalise_code(query)
    code_like = bool(_CODE_LIKE.match(as_code))
    ranked: list[tuple[int, int, str]] = []
    for code, entry in table.codes.items():
        if on_date is not None and not entry.in_force_on(on_date):
            continue
        if code == as_code:
            rank = 0
        elif code.startswith(as_code):
            rank = 1
        elif not code_like and all(any(word.startswith(q) for word in table._words[code]) for q in words):
            rank = 2
        else:
            continue
        billable_now = entry.billable_on(on_date) if on_date is not None else entry.billable
        ranked.append((rank, 0 if billable_now else 1, code))
    return tuple(table.codes[code] for *_, code in sorted(ranked)[:limit])


def validate_code(code: str, on_date: date, *, table: IcdTable | None = None) -> IcdCode:
    """The entry for `code` if it may be reported for a service on `on_date`.

    Raises RuleInputError when the code is unknown, not yet in force on that date, or
    a category header on that date (naming the billable codes beneath it).
    """
    if not isinstance(on_date, date):
        raise RuleInputError(f"on_date must be a date, not {on_date!r}")
    table = table if table is not None else load_icd_table()
    normalised = normalise_code(code)
    entry = table.codes.get(normalised)
    if entry is None:
        raise RuleInputError(
            f"unknown ICD-10-CM code {code!r}: it is not in the clinic's code table; search by words "
            f"(for example 'myalgia' or 'neck pain') to find the right code"
        )
    if not entry.in_force_on(on_date):
        raise RuleInputError(
            f"{entry.code} ({entry.description}) takes effect on {entry.effective_from.isoformat()}; "
            f"it cannot be reported for {on_date.isoformat()}"
        )
    if not entry.billable_on(on_date):
        options = table.billable_descendants(entry.code, on_date)
        suggestion = "; ".join(f"{child.code} {child.description}" for child in options)
        since = (
            f" since {(entry.billable_until + timedelta(days=1)).isoformat()}" if entry.billable_until else ""
        )
        raise RuleInputError(
            f"{entry.code} ({entry.description}) is a category header{since}, not a billable code; "
            f"choose one of: {suggestion}"
        )
    return entry
