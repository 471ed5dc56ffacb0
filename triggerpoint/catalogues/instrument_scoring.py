"""Scoring outcome instruments: acceptable answers, the score, and whether a change is real.

The three decisions ``catalogues.instruments`` describes, on the instruments it loads: which
answers are acceptable (every problem listed in a `RuleInputError`), the score and whether
enough items were answered for it to be valid, and whether a change between two scores is
an improvement that reaches the instrument's MCID, read in its own direction. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

from triggerpoint.catalogues.instruments import (
    LOWER_IS_BETTER,
    STATUS,
    Change,
    Instrument,
    Item,
    Mcid,
    Score,
    get_instrument,
)
from triggerpoint.core.rules import RuleInputError

# Floating-point noise must not decide a boundary: 2.1 / 7 * 100 is 30.000000000000004.
_COMPARISON_DIGITS = 9


def _answer_problem(item: Item, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return f"{item.id}: {value!r} is not a number; expected {item.describe_allowed()}"
    if not math.isfinite(value) or value != int(value):
        return f"{item.id}: {value!r} is not a whole number; expected {item.describe_allowed()}"
    if int(value) not in item.allowed_values:
        return f"{item.id}: {value!r} is out of range; expected {item.describe_allowed()}"
    return None


def validate_answers(instrument: Instrument, answers: Mapping[str, float | int | None]) -> dict[str, int]:
    """The answered items as whole numbers; RuleInputError lists every unknown item and bad answer.

    An explicit None means "not answered" (the patient skipped it).
    """
    problems: list[str] = []
    unknown = sorted(set(answers) - set(instrument.item_ids))
    if unknown:
        problems.append(
            f"unknown items for {instrument.id}: {', '.join(unknown)}; allowed: {', '.join(instrument.item_ids)}"
        )
    clean: dict[str, int] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        problem = _answer_problem(item, value)
        if problem:
            problems.append(f"{instrument.id} {problem}")
        else:
            clean[item.id] = int(value)
    if problems:
        raise RuleInputError(problems)
    return clean


def _value(instrument: Instrument, answered: dict[str, int]) -> float:
    method = instrument.scoring_method
    scored_item = instrument.scored_item_id
    if scored_item is not None:
        return float(answered[scored_item])
    values = list(answered.values())
    if method == "sum":
        if instrument.prorate_missing and len(values) < len(instrument.items):
            return sum(values) / len(values) * len(instrument.items)
        return float(sum(values))
    if method == "mean":
        return sum(values) / len(values)
    # percent_of_max over the answered items only, so a skipped item does not count as "no problem".
    answered_items = [instrument.item(item_id) for item_id in answered]
    floor = sum(item.min_value for item in answered_items)
    span = sum(item.max_value - item.min_value for item in answered_items)
    return (sum(values) - floor) / span * 100


def score(instrument: Instrument, answers: Mapping[str, float | int | None]) -> Score:
    """Score one completed form.

    Valid when at least ``min_answered_items`` are answered and, for an
    ``item:<id>`` formula, that item is one of them.
    """
    answered = validate_answers(instrument, answers)
    missing = tuple(item_id for item_id in instrument.item_ids if item_id not in answered)
    scored_item = instrument.scored_item_id
    valid = len(answered) >= instrument.min_answered_items and (
        scored_item is None or scored_item in answered
    )
    return Score(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        value=_value(instrument, answered) if valid else None,
        valid=valid,
        missing_items=missing,
    )


def unanswered_required_items(instrument: Instrument, answers: Mapping[str, object]) -> tuple[str, ...]:
    """The items a patient must still answer before this form counts as complete (empty when complete).

    A questionnaire a patient fills in is complete when every item is answered, except that an
    instrument whose published scoring prorates missing items (``prorate_missing``, e.g. the NDI
    allows one unanswered section) may leave up to ``items - min_answered_items`` unanswered, as
    long as the scored item (for ``item:<id>`` formulas) is answered. Incomplete submissions are
    refused with this list, so outcome analytics and the registry only ever see complete forms.
    """
    missing = tuple(item_id for item_id in instrument.item_ids if answers.get(item_id) is None)
    may_skip = len(instrument.items) - instrument.min_answered_items if instrument.prorate_missing else 0
    if instrument.scored_item_id in missing or len(missing) > may_skip:
        return missing
    return ()


def _score_value(
    instrument: Instrument, label: str, given: Score | float | int, problems: list[str]
) -> float:
    if isinstance(given, Score):
        if given.instrument_id != instrument.id:
            problems.append(f"{label} score is for {given.instrument_id}, not {instrument.id}")
            return math.nan
        if not given.valid or given.value is None:
            problems.append(
                f"{label} {instrument.id} score is not valid (missing: {', '.join(given.missing_items)})"
            )
            return math.nan
        return given.value
    if isinstance(given, bool) or not isinstance(given, Real) or not math.isfinite(given):
        problems.append(f"{label} {given!r} is not a number")
        return math.nan
    if not instrument.score_min <= given <= instrument.score_max:
        problems.append(
            f"{label} {given!r} is outside the {instrument.id} range "
            f"{instrument.score_min:g}-{instrument.score_max:g}"
        )
    return float(given)


def _beats_mcid(mcid: Mcid, improvement: float, improvement_percent: float | None) -> bool:
    met: list[bool] = []
    if mcid.points is not None:
        met.append(round(improvement, _COMPARISON_DIGITS) >= mcid.points)
    if mcid.percent is not None:
        met.append(
            improvement_percent is not None and round(improvement_percent, _COMPARISON_DIGITS) >= mcid.percent
        )
    return all(met) if mcid.combine == "all" else any(met)


def change(instrument: Instrument, baseline: Score | float | int, follow_up: Score | float | int) -> Change:
    """Change between two scores of a 'status' instrument, read in the instrument's direction."""
    problems: list[str] = []
    if instrument.kind != STATUS:
        problems.append(
            f"{instrument.id} already rates change since the procedure; "
            "read one score against its responder threshold (is_responder) instead"
        )
    before = _score_value(instrument, "baseline", baseline, problems)
    after = _score_value(instrument, "follow-up", follow_up, problems)
    if problems:
        raise RuleInputError(problems)

    absolute = after - before
    percent = absolute / before * 100 if before != 0 else None
    sign = -1 if instrument.direction == LOWER_IS_BETTER else 1
    improvement = sign * absolute
    improvement_percent = None if percent is None else sign * percent
    return Change(
        absolute=absolute,
        percent=percent,
        improvement=improvement,
        improvement_percent=improvement_percent,
        improved=improvement > 0,
        beats_mcid=None
        if instrument.mcid is None
        else _beats_mcid(instrument.mcid, improvement, improvement_percent),
    )


def is_responder(instrument: Instrument, given: Score | float | int) -> bool:
    """Whether one score meets the instrument's responder threshold (e.g. relief >= 50%, PGIC <= 2)."""
    problems: list[str] = []
    responder = instrument.responder
    if responder is None:
        problems.append(f"{instrument.id} defines no responder threshold")
    value = _score_value(instrument, "score", given, problems)
    if problems or responder is None:
        raise RuleInputError(problems)
    if responder.comparison == "at_least":
        return value >= responder.threshold
    return value <= responder.threshold


# --------------------------------------------------------------------------- conveniences


def score_nrs(now: float | None = None, average: float | None = None, worst: float | None = None) -> Score:
    """NRS pain (0-10). The score is average pain; `now` and `worst` are kept for the record."""
    return score(get_instrument("nrs_pain"), {"now": now, "average": average, "worst": worst})


def score_peg3(pain: float | None, enjoyment: float | None, activity: float | None) -> Score:
    """PEG-3: mean of average pain and interference with enjoyment and general activity (0-10)."""
    return score(get_instrument("peg3"), {"pain": pain, "enjoyment": enjoyment, "activity": activity})
