"""Outcome instruments: what a questionnaire asks, how it is scored, what counts as a real change.

Instruments are data (``outcomes/data/instruments/*.yaml``, the outcomes app's data directory, checked against
``instrument.schema.json``) so a clinic can add a measure it is licensed to use
(Neck Disability Index, Oswestry, ...) without a code change. Scoring is limited
to a small safe set of formulas (``sum``, ``mean``, ``percent_of_max``,
``item:<id>``) — never an expression evaluated from a file.

The catalogue decides three things, purely:

* whether a set of answers is acceptable (unknown items and out-of-range answers
  raise :class:`RuleInputError` listing every problem);
* the instrument's score, and whether enough items were answered for it to be
  valid (an invalid score has no value, so nobody charts a half-filled form);
* whether a change between two scores is an improvement and reaches the
  instrument's minimal clinically important difference (MCID), in the
  instrument's own direction (lower pain is better, higher relief is better).

Here: what an instrument is (its types) and reading the definitions. The three decisions
are in ``catalogues.instrument_scoring``, which reads these types; this module never
imports it, so a definition loads without the scoring code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from triggerpoint.core.rules import RuleInputError

INSTRUMENTS_DIR = Path(__file__).resolve().parent.parent / "outcomes" / "data" / "instruments"
SCHEMA_PATH = INSTRUMENTS_DIR / "instrument.schema.json"

LOWER_IS_BETTER = "lower_is_better"
HIGHER_IS_BETTER = "higher_is_better"
STATUS = "status"
CHANGE = "change"



@dataclass(frozen=True)
class Text:
    en: str
    es: str


@dataclass(frozen=True)
class LabelledValue:
    value: int
    label: Text


@dataclass(frozen=True)
class Item:
    """One question. Answers are whole numbers: a point on a range, or a choice's value."""

    id: str
    text: Text
    response_type: str  # "integer_range" | "choice"
    min_value: int
    max_value: int
    anchors: tuple[LabelledValue, ...] = ()
    choices: tuple[LabelledValue, ...] = ()
    recall_period: str | None = None

    @property
    def allowed_values(self) -> tuple[int, ...]:
        if self.response_type == "choice":
            return tuple(choice.value for choice in self.choices)
        return tuple(range(self.min_value, self.max_value + 1))

    def describe_allowed(self) -> str:
        if self.response_type == "choice":
            return "one of " + ", ".join(str(v) for v in self.allowed_values)
        return f"a whole number from {self.min_value} to {self.max_value}"


@dataclass(frozen=True)
class Mcid:
    """Minimal clinically important change, in the instrument's better direction."""

    source: str
    points: float | None = None
    percent: float | None = None
    combine: str = "any"  # "any": either threshold suffices; "all": both are needed
    note: str = ""


@dataclass(frozen=True)
class Responder:
    """A threshold on a single score that marks a responder (e.g. >= 50% relief)."""

    comparison: str  # "at_least" | "at_most"
    threshold: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    version: str
    licence: str
    kind: str
    recall_period: str
    items: tuple[Item, ...]
    scoring_method: str
    prorate_missing: bool
    score_min: float
    score_max: float
    direction: str
    min_answered_items: int
    sources: tuple[str, ...]
    mcid: Mcid | None = None
    responder: Responder | None = None
    translation_note: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise RuleInputError(f"unknown item {item_id!r} for {self.id}; allowed: {', '.join(self.item_ids)}")

    @property
    def scored_item_id(self) -> str | None:
        """The item an ``item:<id>`` score reads, or None for whole-form formulas."""
        if self.scoring_method.startswith("item:"):
            return self.scoring_method.removeprefix("item:")
        return None


@dataclass(frozen=True)
class Score:
    """An instrument's score for one set of answers.

    ``value`` is None whenever ``valid`` is False: a score computed from too
    few answers is not a score.
    """

    instrument_id: str
    instrument_version: str
    value: float | None
    valid: bool
    missing_items: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "version": self.instrument_version,
            "value": self.value,
            "valid": self.valid,
            "missing_items": list(self.missing_items),
        }


@dataclass(frozen=True)
class Change:
    """Change from baseline to follow-up.

    ``absolute`` and ``percent`` are the raw signed difference (follow-up minus
    baseline, and that as a percentage of baseline). ``improvement`` and
    ``improvement_percent`` are the same change turned so that positive means
    better, whatever the instrument's direction. Percentages are None when the
    baseline is 0. ``beats_mcid`` is None when the instrument has no MCID.
    """

    absolute: float
    percent: float | None
    improvement: float
    improvement_percent: float | None
    improved: bool
    beats_mcid: bool | None


# --------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _text(data: Mapping[str, str]) -> Text:
    return Text(en=data["en"], es=data["es"])


def _labelled(values: Iterable[Mapping[str, Any]]) -> tuple[LabelledValue, ...]:
    return tuple(LabelledValue(value=v["value"], label=_text(v["label"])) for v in values)


def _item(data: Mapping[str, Any]) -> Item:
    response = data["response"]
    if response["type"] == "choice":
        choices = _labelled(response["choices"])
        values = [c.value for c in choices]
        return Item(
            id=data["id"],
            text=_text(data["text"]),
            response_type="choice",
            min_value=min(values),
            max_value=max(values),
            choices=choices,
            recall_period=data.get("recall_period"),
        )
    return Item(
        id=data["id"],
        text=_text(data["text"]),
        response_type="integer_range",
        min_value=response["min"],
        max_value=response["max"],
        anchors=_labelled(response["anchors"]),
        recall_period=data.get("recall_period"),
    )


def _theoretical_range(method: str, items: tuple[Item, ...]) -> tuple[float, float] | None:
    """The score range a formula can produce from these items (None if the method is unusable)."""
    if method == "sum":
        return float(sum(i.min_value for i in items)), float(sum(i.max_value for i in items))
    if method == "mean":
        return float(items[0].min_value), float(items[0].max_value)
    if method == "percent_of_max":
        return 0.0, 100.0
    item_id = method.removeprefix("item:")
    for item in items:
        if item.id == item_id:
            return float(item.min_value), float(item.max_value)
    return None


def _definition_problems(data: Mapping[str, Any], items: tuple[Item, ...]) -> list[str]:
    """Checks the schema cannot express: references, ranges and formula consistency."""
    problems: list[str] = []
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate item ids: {', '.join(duplicates)}")
    for item in items:
        if item.response_type == "integer_range":
            if item.min_value >= item.max_value:
                problems.append(f"item {item.id}: min {item.min_value} must be below max {item.max_value}")
            outside = [a.value for a in item.anchors if not item.min_value <= a.value <= item.max_value]
            if outside:
                problems.append(
                    f"item {item.id}: anchors {outside} lie outside {item.min_value}-{item.max_value}"
                )
            labelled = [a.value for a in item.anchors]
        else:
            labelled = [c.value for c in item.choices]
        if len(set(labelled)) != len(labelled):
            problems.append(f"item {item.id}: a value is labelled twice")

    method = data["scoring"]["method"]
    prorate = data["scoring"].get("prorate_missing", False)
    n_items = len(items)
    if data["min_answered_items"] > n_items:
        problems.append(f"min_answered_items {data['min_answered_items']} exceeds the {n_items} items")
    ranges = {(i.min_value, i.max_value) for i in items}
    if (method == "mean" or prorate) and len(ranges) > 1:
        problems.append(
            f"scoring {method!r}{' with prorating' if prorate else ''} needs items sharing one range"
        )
    if prorate and method != "sum":
        problems.append("prorate_missing applies only to scoring method 'sum'")
    if method == "sum" and not prorate and data["min_answered_items"] != n_items:
        problems.append(
            "scoring 'sum' without prorate_missing needs every item answered "
            f"(min_answered_items must be {n_items}); a sum of fewer items would read as less disability"
        )

    theoretical = _theoretical_range(method, items)
    if theoretical is None:
        problems.append(f"scoring {method!r} names an unknown item; items: {', '.join(ids)}")
    else:
        declared = (float(data["score_range"]["min"]), float(data["score_range"]["max"]))
        if declared != theoretical:
            problems.append(
                f"score_range {declared[0]:g}-{declared[1]:g} does not match what {method!r} "
                f"produces from these items ({theoretical[0]:g}-{theoretical[1]:g})"
            )

    responder = data.get("responder")
    if responder is not None:
        low, high = data["score_range"]["min"], data["score_range"]["max"]
        if not low <= responder["threshold"] <= high:
            problems.append(f"responder threshold {responder['threshold']} lies outside the score range")
    if data["kind"] == CHANGE and data.get("mcid") is not None:
        problems.append("a 'change' instrument is read against its responder threshold, not an MCID")
    return problems


def instrument_from_dict(data: Mapping[str, Any], origin: str = "<definition>") -> Instrument:
    """Validate one definition (schema, then consistency) and build the instrument.

    Used for the shipped files and for definitions a clinic uploads; raises
    RuleInputError with every problem found.
    """
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise RuleInputError(
            [
                f"{origin}: {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
                for e in errors
            ]
        )
    items = tuple(_item(item) for item in data["items"])
    problems = _definition_problems(data, items)
    if problems:
        raise RuleInputError([f"{origin}: {p}" for p in problems])

    mcid = data.get("mcid")
    responder = data.get("responder")
    return Instrument(
        id=data["id"],
        name=data["name"],
        version=str(data["version"]),
        licence=data["licence"],
        kind=data["kind"],
        recall_period=data["recall_period"],
        items=items,
        scoring_method=data["scoring"]["method"],
        prorate_missing=data["scoring"].get("prorate_missing", False),
        score_min=float(data["score_range"]["min"]),
        score_max=float(data["score_range"]["max"]),
        direction=data["direction"],
        min_answered_items=data["min_answered_items"],
        sources=tuple(data["sources"]),
        mcid=None
        if mcid is None
        else Mcid(
            source=mcid["source"],
            points=mcid.get("points"),
            percent=mcid.get("percent"),
            combine=mcid.get("combine", "any"),
            note=mcid.get("note", ""),
        ),
        responder=None
        if responder is None
        else Responder(
            comparison=responder["comparison"],
            threshold=float(responder["threshold"]),
            source=responder["source"],
            note=responder.get("note", ""),
        ),
        translation_note=data.get("translation_note", ""),
    )


@lru_cache(maxsize=8)
def _load(directories: tuple[Path, ...]) -> dict[str, Instrument]:
    instruments: dict[str, Instrument] = {}
    problems: list[str] = []
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            try:
                instrument = instrument_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
            except RuleInputError as error:
                problems.extend(error.problems)
                continue
            if instrument.id in instruments:
                problems.append(f"{path.name}: instrument id {instrument.id!r} is defined twice")
                continue
            instruments[instrument.id] = instrument
    if problems:
        raise RuleInputError(problems)
    return instruments


def load_instruments(extra_dirs: Iterable[Path | str] = ()) -> dict[str, Instrument]:
    """All instruments: the shipped ones plus any clinic directories of YAML definitions (cached)."""
    directories = (INSTRUMENTS_DIR, *(Path(d).resolve() for d in extra_dirs))
    return dict(_load(directories))


def get_instrument(instrument_id: str, extra_dirs: Iterable[Path | str] = ()) -> Instrument:
    instruments = load_instruments(extra_dirs)
    try:
        return instruments[instrument_id]
    except KeyError:
        raise RuleInputError(
            f"unknown instrument {instrument_id!r}; allowed: {', '.join(sorted(instruments))}"
        ) from None
