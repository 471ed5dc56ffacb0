"""QuestionnaireResponse (outcome instruments, check-ins, screening answers), Flag (triage alerts) and
DetectedIssue (screening results that need a physician)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from triggerpoint.catalogues.instruments import load_instruments
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    flag,
    questionnaire_response,
    screening_questionnaire,
)
from triggerpoint.fhir.mapping.clinical_common import PROFILE_QUESTIONNAIRE_RESPONSE
from triggerpoint.fhir.params import Ref, Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    Filter,
    ResourceType,
    SearchParam,
    Source,
    by_utc_day,
    by_uuid,
    register,
)
from triggerpoint.fhir.resources.shared import (
    clinical_patient_param,
    id_param,
    ids_filter,
    patient_clinic,
)
from triggerpoint.followup import selectors as followup_selectors

# ================================================================ questionnaires, flags and detected issues
# QuestionnaireResponse (US Core): outcome instruments, post-injection check-ins and screening answers, each
# pointing at its Questionnaire (served by `fhir.questionnaires`: catalogue content, not patient records).
# Flag: follow-up triage alerts; DetectedIssue: screening results that need a physician. Base R4, no profile.
# Actions: screening.view for QuestionnaireResponse (its most sensitive source: red flags, pregnancy) and
# DetectedIssue, followup.view for Flag; the same clinical roles hold procedure.view, portal accounts none.
QR_STATUS_SYSTEM = "http://hl7.org/fhir/questionnaire-answers-status"
QR_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
FLAG_STATUS_SYSTEM = "http://hl7.org/fhir/flag-status"
FLAG_STATUSES = {"active", "inactive", "entered-in-error"}


def _completed(queryset: QuerySet, values: list[Token]) -> QuerySet:
    """`status`: every QuestionnaireResponse served is completed; a code outside the value set is a 400."""
    for value in values:
        if value.code not in QR_STATUSES:
            raise invalid(f"Parameter 'status': {value.code!r} is not one of {', '.join(sorted(QR_STATUSES))}.")
    hit = any(v.code == "completed" and v.system in (None, QR_STATUS_SYSTEM) for v in values)
    return queryset if hit else queryset.none()


def _questionnaire_ids(values: list[Any]) -> set[str]:
    return {v.id for v in values if isinstance(v, Ref)}


def _instrument_questionnaire(queryset: QuerySet, values: list[Ref]) -> QuerySet:
    wanted = _questionnaire_ids(values)
    instruments = [i.id for i in load_instruments().values() if questionnaire_response.questionnaire_id(i) in wanted]
    return queryset.filter(instrument__in=instruments)


def _one_questionnaire(questionnaire_id) -> Filter:
    """The `questionnaire` filter of a source whose records all answer one Questionnaire (its id, at call time)."""
    return lambda queryset, values: queryset if questionnaire_id() in _questionnaire_ids(values) else queryset.none()


def _flag_status(queryset: QuerySet, values: list[Token]) -> QuerySet:
    """`status`: active (open or acknowledged alerts), inactive (resolved); entered-in-error matches none."""
    wanted = set()
    for value in values:
        if value.code not in FLAG_STATUSES:
            raise invalid(f"Parameter 'status': {value.code!r} is not one of {', '.join(sorted(FLAG_STATUSES))}.")
        if value.system in (None, FLAG_STATUS_SYSTEM):
            wanted.add(value.code)
    if {"active", "inactive"} <= wanted:
        return queryset
    if "active" in wanted:
        return followup_selectors.alerts_by_resolution(queryset, resolved=False)
    if "inactive" in wanted:
        return followup_selectors.alerts_by_resolution(queryset, resolved=True)
    return queryset.none()


def _qr_source(records, to_resource, id_filter, date_field: str, questionnaire_filter: Filter) -> Source:
    return Source(
        records=records, to_resource=to_resource, patient_of=lambda record: record.patient,
        filters={"_id": ids_filter(id_filter), "patient": by_uuid("patient__public_id"),
                 "authored": by_utc_day(date_field), "questionnaire": questionnaire_filter,
                 "status": _completed},
        order_by=(date_field, "pk"),
    )


register(ResourceType(
    name="QuestionnaireResponse",
    action="screening.view",
    profile=PROFILE_QUESTIONNAIRE_RESPONSE,
    search_params=(
        SearchParam("_id", "token", f"{US_CORE_SP}us-core-questionnaireresponse-id", "The resource's logical id."),
        SearchParam("patient", "reference", f"{US_CORE_SP}us-core-questionnaireresponse-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
        SearchParam("authored", "date", f"{US_CORE_SP}us-core-questionnaireresponse-authored",
                    "The day it was answered (UTC), with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("questionnaire", "reference", f"{US_CORE_SP}us-core-questionnaireresponse-questionnaire",
                    "The Questionnaire answered: `Questionnaire/<id>` or its canonical URL without `|version`.",
                    target="Questionnaire"),
        SearchParam("status", "token", f"{US_CORE_SP}us-core-questionnaireresponse-status",
                    "completed (every response served is completed)."),
    ),
    combinations=(("patient",),),
    sources=(
        _qr_source(lambda scope: questionnaire_response.records(**patient_clinic(scope)),
                   questionnaire_response.to_resource, questionnaire_response.filter_ids, "measured_at",
                   _instrument_questionnaire),
        _qr_source(lambda scope: questionnaire_response.checkin_records(**patient_clinic(scope)),
                   questionnaire_response.checkin_to_resource, questionnaire_response.filter_checkin_ids,
                   "answered_at", _one_questionnaire(questionnaire_response.checkin_questionnaire_id)),
        _qr_source(lambda scope: screening_questionnaire.records(**patient_clinic(scope)),
                   screening_questionnaire.to_resource, screening_questionnaire.filter_ids,
                   screening_questionnaire.DATE_FIELD, _one_questionnaire(screening_questionnaire.questionnaire_id)),
    ),
))

register(ResourceType(
    name="Flag",
    action="followup.view",
    search_params=(
        id_param("Flag"),
        clinical_patient_param(),
        SearchParam("status", "token", None,
                    "active (open or acknowledged alerts) | inactive (resolved). R4 defines no Flag status "
                    "search parameter; this server's own."),
    ),
    sources=(Source(
        records=lambda scope: flag.flag_records(**patient_clinic(scope)),
        to_resource=flag.flag_resource,
        patient_of=flag.patient_of,
        filters={"_id": ids_filter(flag.filter_ids), "patient": by_uuid(flag.PATIENT_UUID_FIELD), "status": _flag_status},
        order_by=("raised_at", "pk"),
    ),),
))

register(ResourceType(
    name="DetectedIssue",
    action="screening.view",
    search_params=(
        id_param("DetectedIssue"),
        clinical_patient_param(),
    ),
    sources=(Source(
        records=lambda scope: flag.issue_records(**patient_clinic(scope)),
        to_resource=flag.detected_issue_resource,
        patient_of=flag.patient_of,
        filters={"_id": ids_filter(flag.filter_ids), "patient": by_uuid(flag.PATIENT_UUID_FIELD)},
        order_by=("evaluated_at", "pk"),
    ),),
))
