"""Outcome services: record answers, keep the report current, and read a patient's sessions for the repeat rule.

Every state change is a named function, in one transaction, with its audit event; views, the
API, the portal and the demo call these and nothing else. Asking for outcomes after a signed
procedure (the requests, their messages, their expiry) is in ``outcome_requests`` and the
schedule in ``schedule``; ``outcome_requests`` imports this module (it refreshes the summary),
never the other way. Presentation (``display``) reads this module, never the other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues import instrument_scoring
from triggerpoint.catalogues import instruments as inst
from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import analytics, repeat_policies, summary
from triggerpoint.outcomes import repeat as repeat_rule
from triggerpoint.outcomes.models import (
    Measurement,
    OutcomeRequest,
    ProcedureOutcome,
    RequestStatus,
    Source,
    TimePoint,
)
from triggerpoint.outcomes.schedule import FOLLOW_UP_CHOICES, outcome_schedule
from triggerpoint.patients.selectors import chart_ids, chart_ids_by_patient
from triggerpoint.procedures.selectors import signed_procedures


def local_date(moment: datetime, clinic) -> date:
    return timezone.localtime(moment, clinic.zone).date()


# ----------------------------------------------------------------------------- recording
def _validated_scores(instrument_answers: Mapping[str, Mapping]) -> dict[str, inst.Score]:
    problems: list[str] = []
    scores = {}
    for instrument_id, answers in instrument_answers.items():
        try:
            instrument = inst.get_instrument(instrument_id)
            scores[instrument_id] = instrument_scoring.score(instrument, answers)
        except RuleInputError as error:
            problems.extend(error.problems)
    if problems:
        raise RuleInputError(problems)
    return scores


@transaction.atomic
def record_measurements(
    *,
    patient,
    instrument_answers: Mapping[str, Mapping],
    time_point: str,
    source: str,
    procedure=None,
    request: OutcomeRequest | None = None,
    measured_at: datetime | None = None,
) -> list[Measurement]:
    """Store one or more completed instruments; RuleInputError lists every problem with the answers."""
    problems = []
    if time_point not in TimePoint.values:
        problems.append(f"unknown time point {time_point!r}; allowed: {', '.join(TimePoint.values)}")
    if source not in Source.values:
        problems.append(f"unknown source {source!r}; allowed: {', '.join(Source.values)}")
    if procedure is not None and procedure.patient_id not in chart_ids(patient):
        problems.append("the procedure belongs to another patient")
    if procedure is not None and procedure.status != "signed":
        problems.append("outcomes follow a signed procedure; this one is a draft")
    if not instrument_answers:
        problems.append("no instrument was answered")
    answered = {k: {i: v for i, v in a.items() if v is not None} for k, a in instrument_answers.items()}
    if instrument_answers and not any(answered.values()):
        problems.append("every question was left blank")
    try:
        scores = _validated_scores({k: v for k, v in answered.items() if v})
    except RuleInputError as error:
        problems.extend(error.problems)
        scores = {}
    if problems:
        raise RuleInputError(problems)
    moment = measured_at or timezone.now()
    if request is None and procedure is not None and time_point not in (TimePoint.DIARY, TimePoint.OTHER):
        # Answers taken in clinic or by phone for a scheduled time point complete that request too.
        request = OutcomeRequest.objects.filter(
            procedure=procedure, time_point=time_point, status=RequestStatus.PENDING
        ).first()
    created = []
    for instrument_id, answers in answered.items():
        if not answers:
            continue
        score = scores[instrument_id]
        created.append(
            Measurement.objects.create(
                clinic=patient.clinic, patient=patient, procedure=procedure, request=request,
                instrument=instrument_id, instrument_version=score.instrument_version, time_point=time_point,
                measured_at=moment, answers=dict(answers), score=score.value, source=source,
            )
        )
    if request is not None:
        request.status = RequestStatus.COMPLETED
        request.completed_at = timezone.now()
        request.save(update_fields=["status", "completed_at", "updated_at", "updated_by"])
    audit.record(
        "outcomes.measurement.recorded",
        obj=created[0],
        patient=patient,
        details={
            "instruments": [m.instrument for m in created], "time_point": time_point, "source": source,
            "procedure": str(procedure.public_id) if procedure is not None else None,
            "request": str(request.public_id) if request is not None else None,
        },
    )
    if procedure is not None:
        for note in same_day_procedures(procedure):
            refresh_procedure_outcome(note)  # the day's follow-up answers count for each of its notes
    return created


UNANSWERED = "please answer this question"


class IncompleteAnswers(RuleInputError):
    """A patient's questionnaire with required questions unanswered; `unanswered` lists (instrument, item)."""

    def __init__(self, unanswered: list[tuple[str, str]], other_problems: list[str] = ()):
        self.unanswered = list(unanswered)
        super().__init__(
            list(other_problems)
            + [f"{instrument_id} {item_id}: {UNANSWERED}" for instrument_id, item_id in unanswered]
        )


def answer_request(request: OutcomeRequest, instrument_answers: Mapping[str, Mapping], source: str) -> list[Measurement]:
    """A patient's answers to one outcome request (link or portal)."""
    today = request.clinic.today()
    problems = []
    if request.status != RequestStatus.PENDING:
        problems.append("this questionnaire was already answered or is closed")
    elif today > request.answer_by:
        problems.append(f"this questionnaire closed on {request.answer_by}")
    elif today < request.due_on:
        problems.append(f"this questionnaire opens on {request.due_on}")
    unknown = sorted(set(instrument_answers) - set(request.instruments))
    if unknown:
        problems.append(f"instruments not asked here: {', '.join(unknown)}; asked: {', '.join(request.instruments)}")
    if problems:
        raise RuleInputError(problems)
    unanswered = [
        (instrument_id, item_id)
        for instrument_id in request.instruments
        for item_id in instrument_scoring.unanswered_required_items(
            inst.get_instrument(instrument_id), instrument_answers.get(instrument_id) or {}
        )
    ]
    if unanswered and any(any(v is not None for v in a.values()) for a in instrument_answers.values()):
        # Partly answered: refused and nothing stored, so the request stays open and the registry and
        # analytics only ever count complete questionnaires. (All blank is refused below as before.)
        value_problems: list[str] = []
        for instrument_id, answers in instrument_answers.items():
            try:
                instrument_scoring.validate_answers(inst.get_instrument(instrument_id), answers)
            except RuleInputError as error:
                value_problems.extend(error.problems)
        raise IncompleteAnswers(unanswered, value_problems)
    return record_measurements(
        patient=request.patient, instrument_answers=instrument_answers, time_point=request.time_point,
        source=source, procedure=request.procedure, request=request,
    )


def procedure_for_diary(patient, on: date):
    """The procedure a diary entry follows: the latest signed one within the diary window before it."""
    weeks = outcome_schedule().diary_link_weeks
    return (
        signed_procedures(patient_id__in=chart_ids(patient), procedure_date__lte=on,
                          procedure_date__gte=on - timedelta(weeks=weeks))
        .order_by("-procedure_date", "-id")
        .first()
    )


def record_diary_entry(patient, answers: Mapping[str, int | None], measured_at: datetime | None = None) -> Measurement:
    """A pain-diary entry from the portal (NRS now, optionally average), linked to the procedure it follows."""
    moment = measured_at or timezone.now()
    procedure = procedure_for_diary(patient, local_date(moment, patient.clinic))
    return record_measurements(
        patient=patient, instrument_answers={"nrs_pain": answers}, time_point=TimePoint.DIARY,
        source=Source.PORTAL, procedure=procedure, measured_at=moment,
    )[0]


# ----------------------------------------------------------------------------- summary upkeep
def grouping_facts(procedure) -> dict:
    sites = list(procedure.sites.all())
    drugs = sorted({i.drug for i in procedure.injectates.all()})
    techniques = {s.technique for s in sites}
    if not drugs and "dry_needling" in techniques:
        drugs = ["dry_needling"]
    technique = techniques.pop() if len(techniques) == 1 else ("mixed" if techniques else "")
    codes = procedure.diagnosis_codes or []
    return {
        "clinic_id": procedure.clinic_id,
        "patient_id": procedure.patient_id,
        "procedure_date": procedure.procedure_date,
        "clinician_id": procedure.performed_by_id,
        "condition": (codes[0] if codes else "")[:10],
        "muscles": sorted({s.muscle for s in sites}),
        "injectates": drugs,
        "technique": technique,
        "guidance": procedure.guidance,
    }


def same_day_procedures(procedure) -> list:
    """The patient's signed notes of this note's procedure date (this note included), first signed first.

    One patient's day is one episode: its follow-up questionnaires are asked once (for the
    day's first note, ``outcome_requests``) and what the patient answers counts for every note
    of the day, each of which keeps its own in-clinic readings (its pre/post NRS).
    """
    notes = list(
        signed_procedures(patient_id__in=chart_ids(procedure.patient_id), procedure_date=procedure.procedure_date).order_by(
            "signed_at", "id"
        )
    )
    if all(note.pk != procedure.pk for note in notes):
        notes.insert(0, procedure)
    return notes


def readings_for(procedure) -> list[summary.Reading]:
    """The note's own readings, plus the follow-up and diary answers recorded against another note of its day."""
    clinic = procedure.clinic
    others = [note.pk for note in same_day_procedures(procedure) if note.pk != procedure.pk]
    shared = Q(procedure_id__in=others, time_point__in=[*FOLLOW_UP_CHOICES, TimePoint.DIARY.value])
    return [
        summary.Reading(on=local_date(m.measured_at, clinic), time_point=m.time_point, instrument=m.instrument,
                        score=m.score, answers=m.answers or {})
        for m in Measurement.objects.filter(Q(procedure=procedure) | shared)
    ]


def summarize_procedure(procedure) -> summary.OutcomeSummary:
    following = (
        signed_procedures(patient_id__in=chart_ids(procedure.patient_id), procedure_date__gt=procedure.procedure_date)
        .order_by("procedure_date")
        .values_list("procedure_date", flat=True)
        .first()
    )
    facts = summary.ProcedureFacts(
        procedure_date=procedure.procedure_date,
        baseline_pain=float(procedure.pre_nrs) if procedure.pre_nrs is not None else None,
        immediate_pain=float(procedure.post_nrs) if procedure.post_nrs is not None else None,
        next_procedure_date=following,
    )
    return summary.summarize(facts, readings_for(procedure))


@transaction.atomic
def refresh_procedure_outcome(procedure) -> ProcedureOutcome | None:
    """Recompute one procedure's report row and move its contribution in the rollups (incremental)."""
    if procedure.status != "signed" or procedure.deleted_at is not None:
        return None
    old = ProcedureOutcome.objects.select_for_update().filter(procedure_id=procedure.pk).first()
    old_row = analytics.row_of(old)
    values = {**grouping_facts(procedure), **summarize_procedure(procedure).as_row(), "computed_at": timezone.now()}
    outcome, _ = ProcedureOutcome.objects.update_or_create(procedure_id=procedure.pk, defaults=values)
    new_row = analytics.row_of(outcome)
    if old_row != new_row:
        analytics.apply_change(old_row, new_row)
    return outcome


# ----------------------------------------------------------------------------- repeat decision
def _function_improvement(procedure_measurements: Iterable[Measurement]) -> float | None:
    """Percent improvement on PEG-3 from the baseline to the latest follow-up, if both were answered."""
    peg = inst.get_instrument("peg3")
    rows = [m for m in procedure_measurements if m.instrument == peg.id and m.score is not None]
    baseline = [m for m in rows if m.time_point == TimePoint.BASELINE]
    later = [m for m in rows if m.time_point in FOLLOW_UP_CHOICES]
    if not baseline or not later:
        return None
    change = instrument_scoring.change(peg, baseline[-1].score, max(later, key=lambda m: m.measured_at).score)
    return change.improvement_percent


def prior_sessions(patient, before: date) -> list[repeat_rule.PriorSession]:
    """The patient's signed procedures before ``before`` as repeat-rule sessions (one per day)."""
    return prior_sessions_by_patient([patient.pk], before).get(patient.pk, [])


def prior_sessions_by_patient(patient_ids: Iterable[int], before: date) -> dict[int, list[repeat_rule.PriorSession]]:
    """`prior_sessions` for many patients at once (a day's worklist), in a fixed number of queries.

    A patient's sessions are those of every chart that makes the patient up (`chart_ids`: after a merge the
    absorbed chart's signed notes stay there and still count), keyed by the pk asked about."""
    atlas = load_atlas()
    asked_by: dict[int, list[int]] = {}  # chart pk -> the asked pks whose patient it belongs to
    for asked, charts in chart_ids_by_patient(patient_ids).items():
        for chart in charts:
            asked_by.setdefault(chart, []).append(asked)
    procedures = list(
        signed_procedures(patient_id__in=list(asked_by), procedure_date__lt=before)
        .prefetch_related("sites", "outcome_measurements")
        .order_by("procedure_date", "pk")
    )
    outcomes = {o.procedure_id: o for o in ProcedureOutcome.objects.filter(procedure__in=procedures)}
    by_day: dict[tuple[int, date], list] = {}
    for procedure in procedures:
        for asked in asked_by.get(procedure.patient_id, ()):
            by_day.setdefault((asked, procedure.procedure_date), []).append(procedure)
    sessions: dict[int, list[repeat_rule.PriorSession]] = {}
    for (patient_id, day), same_day in sorted(by_day.items()):
        muscles = {s.muscle for p in same_day for s in p.sites.all()}
        regions = {atlas.muscle(m).body_region for m in muscles if atlas.has_muscle(m)}
        if not regions:
            continue
        found = [outcomes.get(p.pk) for p in same_day]
        reliefs = [o.best_relief for o in found if o is not None and o.best_relief is not None]
        durations = [o.relief_days for o in found if o is not None and o.relief_days is not None]
        functions = [f for p in same_day if (f := _function_improvement(p.outcome_measurements.all())) is not None]
        sessions.setdefault(patient_id, []).append(
            repeat_rule.PriorSession(
                date=day,
                body_regions=frozenset(regions),
                muscles=frozenset(muscles),
                relief_percent=max(reliefs) if reliefs else None,
                relief_duration_days=max(durations) if durations else None,
                functional_improvement_percent=max(functions) if functions else None,
            )
        )
    return sessions


@dataclass(frozen=True)
class RepeatTiming:
    """Whether a session planned on a day comes too soon or one too many, by the repeat rule's timing criteria.

    `regions` are the areas checked: the planned ones, or — when nothing is planned yet — the areas of
    the last session (`assumed`), since a repeat usually treats the same areas again.
    """

    decision: repeat_rule.RepeatDecision | None  # None: no earlier session in any area (a first session)
    regions: tuple[str, ...]
    assumed: bool
    last_session: date | None

    @property
    def not_met(self) -> list:
        if self.decision is None:
            return []
        return [f for f in self.decision.findings if f.rule in repeat_rule.TIMING_RULES and f.severity == repeat_rule.NOT_MET]

    @property
    def ok(self) -> bool:
        return not self.not_met


def repeat_timing_for_day(planned_muscles: Mapping[int, Iterable[str] | None], planned_date: date,
                          payer=None) -> dict[int, RepeatTiming]:
    """patient id -> `RepeatTiming` of a session on `planned_date` (the worklist's "Repeat" chip).

    The same rule as the repeat check on the outcomes page (`repeat.evaluate_repeat`, the payer's policy,
    per area), limited to its timing criteria (`repeat.TIMING_RULES`: interval in the same area, sessions
    in a rolling year); relief documentation is the outcomes page's to show. A fixed number of queries.
    """
    policy = _repeat_policy(payer)
    history = prior_sessions_by_patient(planned_muscles, planned_date)
    found: dict[int, RepeatTiming] = {}
    for patient_id, muscles in planned_muscles.items():
        sessions = history.get(patient_id, [])
        last = sessions[-1] if sessions else None
        regions = tuple(regions_of_muscles(muscles or []))
        assumed = not regions and last is not None
        if assumed:
            regions = tuple(sorted(last.body_regions))
        decision = None
        if last is not None and regions:
            decision = repeat_rule.evaluate_repeat(sessions, planned_date, regions, policy)
        found[patient_id] = RepeatTiming(decision, regions, assumed, last.date if last else None)
    return found


def _repeat_policy(payer) -> repeat_policies.RepeatPolicy:
    if payer is None or payer == "":
        return repeat_policies.DEFAULT_REPEAT_POLICY
    if isinstance(payer, repeat_policies.RepeatPolicy):
        return payer
    return repeat_policies.get_repeat_policy(str(payer))


def repeat_decision_for(patient, planned_date: date, planned_regions: Iterable[str], payer=None) -> repeat_rule.RepeatDecision:
    """Whether a planned session meets the payer's repeat-injection policy (``payer``: policy id or RepeatPolicy)."""
    return repeat_rule.evaluate_repeat(prior_sessions(patient, planned_date), planned_date, planned_regions,
                                       _repeat_policy(payer))


def regions_of_muscles(muscles: Iterable[str]) -> list[str]:
    atlas = load_atlas()
    return sorted({atlas.muscle(m).body_region for m in muscles if atlas.has_muscle(m)})
