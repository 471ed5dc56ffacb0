"""Demo outcomes: a few years of treated patients so the charts and the dashboard are alive.

* Always: about 300 earlier procedures for the demo patients, with their
  baseline/immediate NRS and the 2/6/12-week answers most patients gave, and
  a due 2-week questionnaire for the portal patient.
* ``triggerpoint demo --procedures N``: N more procedures for synthetic registry
  patients (bulk inserts with a progress bar), for the analytics at scale.
"""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from triggerpoint.core.context import acting_as
from triggerpoint.outcomes import (
    analytics,
    outcome_requests,
    registry,
    registry_population,
    schedule,
    services,
)
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, ProcedureOutcome, RequestStatus
from triggerpoint.procedures.demo import signed_history_note
from triggerpoint.procedures.selectors import procedures_with_sites, signed_procedures

HISTORY_PROCEDURES = 300
PATIENTS_PER_REGISTRY_PROCEDURE = 0.25
REGISTRY_CLINIC_WEIGHTS = (0.85, 0.15)


def extend(ctx) -> None:
    started = time.perf_counter()
    practitioners = registry_population.practitioners_for(ctx.staff, ctx.clinics)
    with transaction.atomic():
        history = _history(ctx, practitioners)
        _portal_patient_due_questionnaire(ctx)
        requested = int(ctx.options.get("procedures") or 0)
        made = None
        if requested > 0:
            made = _registry(ctx, practitioners, requested)
        analytics.rebuild_rollups([c.pk for c in ctx.clinics])
    line = f"Outcomes: {history} earlier procedures with outcome answers for the demo patients"
    if made is not None:
        line += (
            f"; registry of {made.procedures:,} procedures, {made.measurements:,} measurements for "
            f"{made.patients:,} synthetic patients"
        )
    ctx.notes.append(f"{line} ({time.perf_counter() - started:.1f} s).")


def _history(ctx, practitioners) -> int:
    patients = list(ctx.patients)
    made = registry.generate(
        seed=ctx.rng.getrandbits(63),
        today=ctx.today,
        n_procedures=HISTORY_PROCEDURES,
        patient_ids=np.asarray([p.pk for p in patients]),
        patient_clinics=np.asarray([p.clinic_id for p in patients]),
        practitioners=practitioners,
        latest_days_ago=20,
        show_progress=False,
    )
    procedures = procedures_with_sites(made.procedure_ids.tolist())
    _history_requests(procedures)
    # The demo patients may also have procedures from other modules' demos: recompute each
    # row the exact way (next-procedure windows across both); rollups are rebuilt afterwards.
    for procedure in signed_procedures(patient__in=patients).select_related("clinic"):
        values = {**services.grouping_facts(procedure), **services.summarize_procedure(procedure).as_row()}
        ProcedureOutcome.objects.update_or_create(procedure_id=procedure.pk, defaults=values)
    return made.procedures


def _history_requests(procedures) -> None:
    plan = schedule.outcome_schedule()
    today = timezone.localdate()
    answered = set(
        Measurement.objects.filter(procedure__in=procedures).values_list("procedure_id", "time_point").distinct()
    )
    rows = []
    for procedure in procedures:
        points = [(tp, 0, 0) for tp in schedule.IN_CLINIC_POINTS]
        points += [(tp, days, plan.answer_window_days) for tp, days in plan.follow_up_days]
        for time_point, days, window in points:
            due = procedure.procedure_date + timedelta(days=days)
            answer_by = due + timedelta(days=window)
            if (procedure.pk, time_point) in answered:
                status = RequestStatus.COMPLETED
            elif today <= answer_by:
                status = RequestStatus.PENDING
            else:
                status = RequestStatus.EXPIRED
            rows.append(
                OutcomeRequest(
                    clinic_id=procedure.clinic_id, patient_id=procedure.patient_id, procedure=procedure,
                    time_point=time_point, due_on=due, answer_by=answer_by,
                    instruments=list(plan.in_clinic_instruments if days == 0 else plan.follow_up_instruments),
                    status=status,
                )
            )
    OutcomeRequest.objects.bulk_create(rows, batch_size=1000)


def _portal_patient_due_questionnaire(ctx) -> None:
    """The portal patient had an injection 15 days ago, so the 2-week questionnaire is waiting."""
    patient = ctx.portal_patient
    if patient is None:
        return
    day = ctx.today - timedelta(days=15)
    recent = signed_procedures(
        patient=patient, procedure_date__gte=day - timedelta(days=3), procedure_date__lte=day + timedelta(days=3)
    ).first()
    physician = ctx.staff["dr.rivera"]
    with acting_as(physician):
        if recent is None:
            recent = signed_history_note(patient, physician, day, performed_at=timezone.now() - timedelta(days=15))
        outcome_requests.schedule_outcome_requests(recent)


def _registry(ctx, practitioners, count: int):
    rng = np.random.default_rng(ctx.rng.getrandbits(63))
    patients = max(int(count * PATIENTS_PER_REGISTRY_PROCEDURE), 1)
    clinic_ids = [c.pk for c in ctx.clinics[: len(REGISTRY_CLINIC_WEIGHTS)]]
    with acting_as(ctx.staff["dr.rivera"]):
        patient_ids, patient_clinics = registry_population.create_patients(
            rng, clinic_ids, patients, ctx.today, REGISTRY_CLINIC_WEIGHTS[: len(clinic_ids)]
        )
        made = registry.generate(
            seed=int(rng.integers(0, 2**62)),
            today=ctx.today,
            n_procedures=count,
            patient_ids=patient_ids,
            patient_clinics=patient_clinics,
            practitioners=practitioners,
        )
    made.patients = patients
    return made
