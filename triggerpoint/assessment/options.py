"""Coded pick-lists for the assessment visit (history, prior treatment, plan, follow-up).

The visit stores ids, never free text, for the answers reports and payers ask about
("which conservative treatments failed?", "what was added to the plan?"), so the
lists are data with stable ids (``data/history_options.yaml``). An option marked
``requires_text`` ("other", "earlier injections") is incomplete without a detail.
Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triggerpoint.assessment._data import AssessmentDataError, load_document
from triggerpoint.core.rules import RuleInputError


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    requires_text: bool
    days: int | None  # follow-up intervals only; None for "as needed"
    sources: tuple[str, ...]


@dataclass(frozen=True)
class OptionList:
    id: str
    label: str
    options: tuple[Option, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)

    def get(self, option_id: str) -> Option:
        """The option with this id; RuleInputError naming the allowed ids otherwise."""
        for option in self.options:
            if option.id == option_id:
                return option
        raise RuleInputError(f"unknown {self.id} option {option_id!r}; allowed: {', '.join(self.ids)}")


@dataclass(frozen=True)
class HistoryOptions:
    lists: dict[str, OptionList]
    sources: dict[str, str]

    def list(self, list_id: str) -> OptionList:
        try:
            return self.lists[list_id]
        except KeyError:
            raise RuleInputError(
                f"unknown option list {list_id!r}; allowed: {', '.join(self.lists)}"
            ) from None

    def validate_choices(self, list_id: str, choices: Mapping[str, str | None]) -> tuple[Option, ...]:
        """Check chosen ids (mapped to their free-text detail or None); every problem at once."""
        option_list = self.list(list_id)
        problems: list[str] = []
        chosen: list[Option] = []
        for option_id, text in choices.items():
            try:
                option = option_list.get(option_id)
            except RuleInputError as error:
                problems.extend(error.problems)
                continue
            if option.requires_text and not (isinstance(text, str) and text.strip()):
                problems.append(f"{list_id} option {option_id!r} needs a short description")
            chosen.append(option)
        if problems:
            raise RuleInputError(problems)
        return tuple(chosen)


def build_history_options(document: Mapping[str, Any]) -> HistoryOptions:
    problems: list[str] = []
    sources = {source["id"]: source["citation"] for source in document["sources"]}
    lists: dict[str, OptionList] = {}
    for list_id, body in document["lists"].items():
        seen: set[str] = set()
        options = []
        for row in body["options"]:
            if row["id"] in seen:
                problems.append(f"{list_id}: duplicate option id {row['id']}")
            seen.add(row["id"])
            unknown = [source for source in row["sources"] if source not in sources]
            if unknown:
                problems.append(f"{list_id}/{row['id']}: unknown source(s) {', '.join(unknown)}")
            if "days" in row and list_id != "follow_up_intervals":
                problems.append(f"{list_id}/{row['id']}: only follow-up intervals have days")
            options.append(
                Option(
                    row["id"],
                    row["label"],
                    row.get("requires_text", False),
                    row.get("days"),
                    tuple(row["sources"]),
                )
            )
        lists[list_id] = OptionList(list_id, body["label"], tuple(options))
    if problems:
        raise AssessmentDataError(problems)
    return HistoryOptions(lists=lists, sources=sources)


@functools.lru_cache(maxsize=1)
def load_history_options() -> HistoryOptions:
    """The shipped pick-lists, schema-validated; cached (immutable)."""
    return build_history_options(load_document("history_options.yaml", "history_options.schema.json"))
