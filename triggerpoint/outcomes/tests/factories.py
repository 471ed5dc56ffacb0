"""Small builders for outcome tests: signed procedures and measurements without the full note workflow."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def signed_procedure(patient, physician, day: date, *, sites=(("upper_trapezius", "left"),), drugs=("lidocaine",),
                     pre=7, post=2, guidance="landmark", codes=("M54.2",), technique="injection", payer="medicare_lcd",
                     schedule=True):
    """A signed note (sites and injectates written while it was a draft), then the outcome receiver."""
    from triggerpoint.outcomes import outcome_requests
    from triggerpoint.procedures.models import Injectate, InjectionSite, Procedure

    performed = timezone.make_aware(datetime.combine(day, time(10, 0)), patient.clinic.zone)
    procedure = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, performed_by=physician, procedure_date=day, performed_at=performed,
        guidance=guidance, pre_nrs=pre, post_nrs=post, observation_minutes=20, discharge_condition="stable",
        payer=payer, diagnosis_codes=list(codes),
    )
    for position, (muscle, side) in enumerate(sites):
        InjectionSite.objects.create(procedure=procedure, position=position, muscle=muscle, side=side, technique=technique)
    if technique == "injection":
        for drug in drugs:
            Injectate.objects.create(procedure=procedure, drug=drug, volume_ml=2, concentration_percent=1)
    procedure.status = "signed"
    procedure.signed_at = performed + timedelta(minutes=30)
    procedure.signed_by = physician
    procedure.save()
    if schedule:
        outcome_requests.schedule_outcome_requests(procedure)
    return procedure


def answer(procedure, time_point: str, *, days: int, pain: int | None = None, relief: int | None = None):
    """Record follow-up answers ``days`` after the procedure, at noon clinic time."""
    from triggerpoint.outcomes import services

    at = timezone.make_aware(datetime.combine(procedure.procedure_date + timedelta(days=days), time(12)),
                             procedure.clinic.zone)
    answers = {}
    if pain is not None:
        answers["nrs_pain"] = {"now": pain, "average": pain}
    if relief is not None:
        answers["percent_relief"] = {"relief": relief}
    return services.record_measurements(patient=procedure.patient, instrument_answers=answers, time_point=time_point,
                                        source="clinic", procedure=procedure, measured_at=at)
