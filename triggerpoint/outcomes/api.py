"""Outcomes API: a patient's measurements, recording one, the repeat decision, and the clinic report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Body, Query, Router, Schema, Status

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.catalogues import instruments as inst
from triggerpoint.core import plausible
from triggerpoint.core.plausible import ReportDate, ScheduledDate
from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import analytics, display, services
from triggerpoint.outcomes.models import Measurement, Source
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user
from triggerpoint.procedures.selectors import procedure_for_patient

router = Router(tags=["outcomes"])


def _measurement(m: Measurement) -> dict[str, Any]:
    return {
        "id": str(m.public_id),
        "instrument": m.instrument,
        "instrument_version": m.instrument_version,
        "time_point": m.time_point,
        "measured_at": m.measured_at.isoformat(),
        "answers": m.answers,
        "score": m.score,
        "source": m.source,
        "procedure": str(m.procedure.public_id) if m.procedure_id else None,
    }


@router.get("/instruments", url_name="outcomes_instruments")
def outcomes_instruments(request):
    require(request.auth, "outcomes.view")
    return {
        "instruments": [
            {"id": i.id, "name": i.name, "version": i.version, "kind": i.kind, "direction": i.direction,
             "items": [{"id": item.id, "min": item.min_value, "max": item.max_value} for item in i.items],
             "mcid": None if i.mcid is None else {"points": i.mcid.points, "percent": i.mcid.percent},
             "responder": None if i.responder is None else {"comparison": i.responder.comparison,
                                                            "threshold": i.responder.threshold}}
            for i in inst.load_instruments().values()
        ]
    }


@router.get("/patients/{public_id}/measurements", url_name="outcomes_list_measurements")
def outcomes_list_measurements(request, public_id: str):
    patient = get_patient_for_user(request.auth, public_id, "outcomes.view")
    rows = Measurement.objects.filter(patient_id__in=chart_ids(patient)).select_related("procedure").order_by("measured_at")
    audit.record("outcomes.measurements.listed", obj=patient, details={"channel": "api"})
    return {"measurements": [_measurement(m) for m in rows]}


@router.post("/patients/{public_id}/measurements", response={201: dict}, url_name="outcomes_record_measurement")
def outcomes_record_measurement(request, public_id: str, payload: dict = Body(...)):  # noqa: B008 - Ninja idiom
    """Body: {"instrument": id, "answers": {item: value}, "time_point": ..., "procedure": public id?, "measured_at": iso?}."""
    patient = get_patient_for_user(request.auth, public_id, "outcomes.record")
    problems = []
    instrument = payload.get("instrument")
    answers = payload.get("answers")
    if not isinstance(instrument, str):
        problems.append("instrument: required, an instrument id")
    if not isinstance(answers, dict):
        problems.append("answers: required, an object of item id to value")
    procedure = None
    if payload.get("procedure"):
        procedure = procedure_for_patient(patient, payload["procedure"])
        if procedure is None:
            problems.append("procedure: no such procedure for this patient")
    measured_at = None
    if payload.get("measured_at"):
        try:
            measured_at = datetime.fromisoformat(str(payload["measured_at"]))
            if measured_at.tzinfo is None:
                problems.append("measured_at: give a time zone offset")
            plausible.check("recorded", measured_at, "measured_at:", problems)
        except ValueError:
            problems.append("measured_at: not an ISO 8601 date-time")
    if problems:
        raise RuleInputError(problems)
    created = services.record_measurements(
        patient=patient, instrument_answers={instrument: answers}, time_point=str(payload.get("time_point", "")),
        source=Source.CLINIC if request.auth.clinic_id else Source.PORTAL, procedure=procedure, measured_at=measured_at,
    )
    return Status(201, {"measurements": [_measurement(m) for m in created]})


class RepeatQuery(Schema):
    planned_date: ScheduledDate
    regions: list[str]
    payer: str = ""


@router.get("/patients/{public_id}/repeat-decision", url_name="outcomes_repeat_decision")
def outcomes_repeat_decision(request, public_id: str, query: Query[RepeatQuery]):
    patient = get_patient_for_user(request.auth, public_id, "outcomes.view")
    decision = services.repeat_decision_for(patient, query.planned_date, query.regions, query.payer or None)
    audit.record("outcomes.repeat_decision.viewed", obj=patient, details={"channel": "api"})
    return decision.as_dict()


@router.get("/analytics/report", url_name="outcomes_report")
def outcomes_report(request, date_from: ReportDate | None = None, date_to: ReportDate | None = None):
    require(request.auth, "analytics.view")
    clinic = request.auth.clinic
    report = analytics.clinic_report(clinic.pk, date_from, date_to, labels=display.report_labels(clinic.pk))
    audit.record("outcomes.analytics.viewed", clinic=clinic, details={"channel": "api"})
    return {"date_from": date_from, "date_to": date_to, "seconds": report.seconds, "groups": analytics.report_rows(report)}
