"""What one procedure achieved: the outcome facts the patient view, the repeat rule and the clinic report read.

Pure module (no ORM): the caller hands in the procedure's facts and the
readings linked to it; this module applies the instrument definitions and the
duration-of-relief definition (``relief.py``) the same way every time.

Definitions (one place, used by the per-patient view, the repeat rule and the
clinic report alike):

* **Baseline pain** is the pre-procedure NRS ("pain now") of the note.
* **Pain at a time point** is the latest NRS "pain now" reading answering that
  time point (the NRS score, average pain, when "now" was skipped).
* **Percent relief at a time point** is the latest percent-relief reading for it.
* **Responder** at 2 or 6 weeks: percent relief meets the percent-relief
  instrument's responder threshold (>= 50%). When only pain was reported, a pain
  reduction of that same percentage from baseline counts instead.
* **Pain change** is pain now at the time point minus baseline (negative is better);
  whether it beats the MCID is decided by the NRS instrument's own MCID.
* **Duration of relief** is ``relief.relief_duration`` over every reading linked
  to the procedure, closed at the patient's next procedure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from triggerpoint.catalogues import instrument_scoring
from triggerpoint.catalogues import instruments as inst
from triggerpoint.outcomes import relief

NRS = "nrs_pain"
PERCENT_RELIEF = "percent_relief"
FOLLOW_UP_POINTS = ("2w", "6w", "12w")


@dataclass(frozen=True)
class Reading:
    """One stored measurement, reduced to what outcome summaries need."""

    on: date
    time_point: str
    instrument: str
    score: float | None
    answers: dict = field(default_factory=dict)

    @property
    def pain_now(self) -> float | None:
        if self.instrument != NRS:
            return None
        value = self.answers.get("now")
        return float(value) if value is not None else self.score


@dataclass(frozen=True)
class ProcedureFacts:
    procedure_date: date
    baseline_pain: float | None
    immediate_pain: float | None = None
    next_procedure_date: date | None = None


@dataclass(frozen=True)
class OutcomeSummary:
    baseline_pain: float | None
    immediate_pain: float | None
    pain: dict[str, float | None]
    relief: dict[str, float | None]
    best_relief: float | None
    responder_2w: bool | None
    responder_6w: bool | None
    change_2w: float | None
    change_6w: float | None
    mcid_6w: bool | None
    duration: relief.ReliefDuration

    def as_row(self) -> dict:
        """Column values of ``ProcedureOutcome``."""
        return {
            "baseline_pain": self.baseline_pain,
            "immediate_pain": self.immediate_pain,
            "pain_2w": self.pain["2w"],
            "pain_6w": self.pain["6w"],
            "pain_12w": self.pain["12w"],
            "relief_2w": self.relief["2w"],
            "relief_6w": self.relief["6w"],
            "relief_12w": self.relief["12w"],
            "best_relief": self.best_relief,
            "responder_2w": self.responder_2w,
            "responder_6w": self.responder_6w,
            "change_2w": self.change_2w,
            "change_6w": self.change_6w,
            "mcid_6w": self.mcid_6w,
            "relief_days": self.duration.days,
            "relief_event": self.duration.event_observed,
            "relief_status": self.duration.status,
        }


def _latest(readings: Sequence[Reading], time_point: str, value) -> float | None:
    found = [(r.on, value(r)) for r in readings if r.time_point == time_point and value(r) is not None]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def is_responder(relief_percent: float | None, pain: float | None, baseline: float | None) -> bool | None:
    """Responder by percent relief, or by the same percentage fall in pain when relief was not asked."""
    relief_instrument = inst.get_instrument(PERCENT_RELIEF)
    if relief_percent is not None:
        return instrument_scoring.is_responder(relief_instrument, relief_percent)
    if pain is not None and baseline:
        fall = (baseline - pain) / baseline * 100
        return fall >= relief_instrument.responder.threshold
    return None


def observations(facts: ProcedureFacts, readings: Sequence[Reading]) -> list[relief.Observation]:
    """Readings merged per day into relief observations (pain now and percent relief of the same day)."""
    by_day: dict[date, dict[str, float | None]] = {}
    for reading in readings:
        if reading.on < facts.procedure_date:
            continue
        day = by_day.setdefault(reading.on, {"pain_now": None, "percent_relief": None})
        if reading.instrument == NRS and reading.pain_now is not None:
            day["pain_now"] = reading.pain_now
        elif reading.instrument == PERCENT_RELIEF and reading.score is not None:
            day["percent_relief"] = reading.score
    usable = []
    for on, values in sorted(by_day.items()):
        if values["percent_relief"] is None and (values["pain_now"] is None or not facts.baseline_pain):
            continue  # pain alone cannot be judged without a baseline
        usable.append(relief.Observation(date=on, **values))
    return usable


def summarize(
    facts: ProcedureFacts,
    readings: Sequence[Reading],
    policy: relief.ReliefPolicy = relief.DEFAULT_RELIEF_POLICY,
) -> OutcomeSummary:
    """The outcome facts of one procedure from the readings linked to it."""
    nrs = inst.get_instrument(NRS)
    baseline = facts.baseline_pain
    pain = {tp: _latest(readings, tp, lambda r: r.pain_now) for tp in FOLLOW_UP_POINTS}
    relief_by_tp = {
        tp: _latest(readings, tp, lambda r: r.score if r.instrument == PERCENT_RELIEF else None)
        for tp in FOLLOW_UP_POINTS
    }
    counted_relief = [
        r.score
        for r in readings
        if r.instrument == PERCENT_RELIEF
        and r.score is not None
        and (r.on - facts.procedure_date).days >= policy.first_counted_day
    ]
    change = {tp: (pain[tp] - baseline) if pain[tp] is not None and baseline is not None else None for tp in pain}
    mcid_6w = None
    if pain["6w"] is not None and baseline is not None:
        mcid_6w = instrument_scoring.change(nrs, baseline, pain["6w"]).beats_mcid
    duration = relief.relief_duration(
        facts.procedure_date,
        baseline if baseline else None,
        observations(facts, readings),
        follow_up_end=facts.next_procedure_date,
        policy=policy,
    )
    return OutcomeSummary(
        baseline_pain=baseline,
        immediate_pain=facts.immediate_pain,
        pain=pain,
        relief=relief_by_tp,
        best_relief=max(counted_relief) if counted_relief else None,
        responder_2w=is_responder(relief_by_tp["2w"], pain["2w"], baseline),
        responder_6w=is_responder(relief_by_tp["6w"], pain["6w"], baseline),
        change_2w=change["2w"],
        change_6w=change["6w"],
        mcid_6w=mcid_6w,
        duration=duration,
    )
