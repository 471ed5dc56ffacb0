"""The resource types /fhir/R4/ serves, registered with `registry.register` (see `registry` for how to add one).

Records are read only through the owning apps' selectors; the mappers in `mapping/` are pure.
Policy actions mirror the pages and /api/v1/: Patient needs `patient.view` (front desk too),
AllergyIntolerance `patient.view_clinical`, Condition and Encounter `assessment.view`
(clinicians; `procedure.view` is granted to the same roles); what signed notes and outcome
measurements yield (Procedure, BodyStructure, MedicationAdministration, Provenance, Observation)
`procedure.view`.
"""

from __future__ import annotations

import functools
import operator
import uuid
from typing import Any

from django.db.models import Q, QuerySet

from triggerpoint.assessment.visit_reads import amended_diagnosis_codes, signed_visit_diagnoses, signed_visits
from triggerpoint.catalogues.instruments import load_instruments
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    allergy,
    body_structure,
    condition,
    encounter,
    flag,
    medication_administration,
    observation,
    patient,
    procedure,
    provenance,
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
    by_date,
    by_uuid,
    register,
)
from triggerpoint.followup import selectors as followup_selectors
from triggerpoint.patients import selectors as patients
from triggerpoint.procedures.selectors import signed_procedures


def id_param(resource: str) -> SearchParam:
    return SearchParam("_id", "token", f"{US_CORE_SP}us-core-{resource.lower()}-id"
                       if resource in ("Patient", "Encounter") else "http://hl7.org/fhir/SearchParameter/Resource-id",
                       "The resource's logical id.")


def patient_param(resource: str) -> SearchParam:
    return SearchParam("patient", "reference", f"{US_CORE_SP}us-core-{resource.lower()}-patient",
                       "The patient (`Patient/<id>` or `<id>`).", target="Patient")


def codes_in(allowed: set[str], system: str | None, name: str, *, strict: bool = False):
    """A token filter for a value every record of the source shares: all records or none.

    `strict`: a code outside `allowed` (in the parameter's value set) is a 400, not an empty result."""

    def apply(queryset: QuerySet, values: list[Token]) -> QuerySet:
        for value in values:
            if strict and value.code not in allowed:
                raise invalid(f"Parameter {name!r}: {value.code!r} is not one of {', '.join(sorted(allowed))}.")
        hit = any(v.code in allowed and v.system in (None, system) for v in values)
        return queryset if hit else queryset.none()

    return apply


# ---------------------------------------------------------------- Patient
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"


def _patient_identifier(queryset: QuerySet, values: list[Token]) -> QuerySet:
    q = Q(pk__in=[])
    for value in values:
        if not value.code:
            raise invalid("Parameter 'identifier' needs a value (system|value or value).")
        if value.system is None:
            q |= Q(mrn=value.code)
        elif value.system.startswith("urn:uuid:"):
            try:
                q |= Q(mrn=value.code, clinic__public_id=uuid.UUID(value.system[len("urn:uuid:"):]))
            except ValueError:
                continue
    return queryset.filter(q)


def _patient_name(queryset: QuerySet, values: list[str]) -> QuerySet:
    return functools.reduce(operator.or_, (patients.name_starts_with(queryset, v) for v in values))


def _patient_gender(queryset: QuerySet, values: list[Token]) -> QuerySet:
    codes = []
    for value in values:
        if value.code not in patient.GENDERS:
            raise invalid(f"Parameter 'gender': {value.code!r} is not one of female, male, other, unknown.")
        if value.system in (None, GENDER_SYSTEM):
            codes.append(value.code)
    return patients.patients_with_sex(queryset, codes)


register(ResourceType(
    name="Patient",
    action="patient.view",
    profile=patient.PROFILE,
    patient_param="_id",
    search_params=(
        id_param("Patient"),
        SearchParam("identifier", "token", f"{US_CORE_SP}us-core-patient-identifier",
                    "The MRN: `value`, or `system|value` with the clinic's system (urn:uuid:<clinic id>)."),
        SearchParam("name", "string", f"{US_CORE_SP}us-core-patient-name",
                    "A given or family name starting with the value (accents and case ignored)."),
        SearchParam("birthdate", "date", f"{US_CORE_SP}us-core-patient-birthdate",
                    "Date of birth, with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("gender", "token", f"{US_CORE_SP}us-core-patient-gender", "female | male | other | unknown."),
    ),
    combinations=(("birthdate", "name"), ("gender", "name")),
    operations=(("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"),),
    sources=(Source(
        records=lambda scope: patients.patients(**scope.lookup("pk")),
        to_resource=patient.to_fhir,
        patient_of=lambda record: record,
        filters={"_id": by_uuid("public_id"), "identifier": _patient_identifier, "name": _patient_name,
                 "birthdate": by_date("date_of_birth"), "gender": _patient_gender},
        order_by=("family_name", "given_name", "pk"),
    ),),
))

# ---------------------------------------------------------------- AllergyIntolerance
ACTIVE = codes_in({"active"}, allergy.CLINICAL, "clinical-status")

register(ResourceType(
    name="AllergyIntolerance",
    action="patient.view_clinical",
    profile=allergy.PROFILE,
    search_params=(
        id_param("AllergyIntolerance"),
        patient_param("AllergyIntolerance"),
        SearchParam("clinical-status", "token", f"{US_CORE_SP}us-core-allergyintolerance-clinical-status",
                    "active (every allergy we record is active)."),
    ),
    combinations=(("patient",), ("clinical-status", "patient")),
    sources=(
        Source(
            records=lambda scope: patients.allergies(**scope.lookup("patient_id")),
            to_resource=allergy.to_fhir,
            patient_of=lambda record: record.patient,
            filters={"_id": by_uuid("public_id"), "patient": by_uuid("patient__public_id"), "clinical-status": ACTIVE},
        ),
        Source(
            records=lambda scope: patients.patients_without_known_drug_allergies(**scope.lookup("pk")),
            to_resource=allergy.nkda_to_fhir,
            patient_of=lambda record: record,
            filters={"_id": by_uuid("public_id", prefix=allergy.NKDA_ID_PREFIX), "patient": by_uuid("public_id"),
                     "clinical-status": ACTIVE},
        ),
    ),
))

# ---------------------------------------------------------------- Condition (encounter diagnoses)


def _condition(diagnosis: Any) -> dict[str, Any]:
    return condition.to_fhir(diagnosis, amended_diagnosis_codes(diagnosis.visit))


register(ResourceType(
    name="Condition",
    action="assessment.view",
    profile=condition.PROFILE,
    search_params=(
        id_param("Condition"),
        patient_param("Condition"),
        SearchParam("category", "token", f"{US_CORE_SP}us-core-condition-category", "encounter-diagnosis."),
        SearchParam("encounter", "reference", f"{US_CORE_SP}us-core-condition-encounter",
                    "The assessment visit (`Encounter/<id>`).", target="Encounter"),
    ),
    combinations=(("patient",), ("category", "patient")),
    sources=(Source(
        records=lambda scope: signed_visit_diagnoses(**scope.lookup("visit__patient_id")),
        to_resource=_condition,
        patient_of=lambda record: record.visit.patient,
        filters={"_id": by_uuid("public_id"), "patient": by_uuid("visit__patient__public_id"),
                 "category": codes_in({"encounter-diagnosis"}, condition.CATEGORY["coding"][0]["system"], "category"),
                 "encounter": by_uuid("visit__public_id")},
        order_by=("visit__visit_date", "pk"),
    ),),
))

# ---------------------------------------------------------------- Encounter (assessment and procedure visits)
FINISHED = codes_in({"finished"}, "http://hl7.org/fhir/encounter-status", "status")

register(ResourceType(
    name="Encounter",
    action="assessment.view",
    profile=encounter.PROFILE,
    search_params=(
        id_param("Encounter"),
        patient_param("Encounter"),
        SearchParam("date", "date", f"{US_CORE_SP}us-core-encounter-date",
                    "The visit's day, with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("status", "token", f"{US_CORE_SP}us-core-encounter-status", "finished (only signed visits)."),
    ),
    combinations=(("patient",), ("date", "patient")),
    sources=(
        Source(
            records=lambda scope: signed_visits(**scope.lookup("patient_id")),
            to_resource=encounter.visit_to_fhir,
            patient_of=lambda record: record.patient,
            filters={"_id": by_uuid("public_id"), "patient": by_uuid("patient__public_id"),
                     "date": by_date("visit_date"), "status": FINISHED},
            order_by=("visit_date", "pk"),
        ),
        Source(
            records=lambda scope: signed_procedures(**scope.lookup("patient_id")).select_related(
                "performed_by", "patient", "patient__clinic"),
            to_resource=encounter.procedure_to_fhir,
            patient_of=lambda record: record.patient,
            filters={"_id": by_uuid("public_id"), "patient": by_uuid("patient__public_id"),
                     "date": by_date("procedure_date"), "status": FINISHED},
            order_by=("procedure_date", "pk"),
        ),
    ),
))

# ---------------------------------------------------------------- clinical records of signed notes (mapping/)


def _mapped(mapper, record: Any) -> dict[str, Any]:
    return mapper.to_resource(record)


def _ids(match) -> Filter:
    """An `_id` filter from a mapper's `filter_*ids(queryset, ids)` (ids as plain strings)."""
    return lambda queryset, values: match(queryset, ids_of_values(values))


def ids_of_values(values: list[Any]) -> list[str]:
    return [v.code if isinstance(v, Token) else v.id if isinstance(v, Ref) else str(v) for v in values]


def _targets(match) -> Filter:
    """A `target` filter from a mapper's `filter_*targets(queryset, refs)` (refs as `Type/id` strings)."""
    return lambda queryset, values: match(
        queryset, [f"{v.type}/{v.id}" if isinstance(v, Ref) else str(v) for v in values])


register(ResourceType(
    name="Procedure",
    action="procedure.view",
    profile=procedure.PROFILE_PROCEDURE,
    search_params=(
        id_param("Procedure"),
        patient_param("Procedure"),
        SearchParam("date", "date", f"{US_CORE_SP}us-core-procedure-date",
                    "The procedure's day, with the prefixes eq, ne, gt, lt, ge, le."),
    ),
    combinations=(("patient",), ("date", "patient")),
    sources=(Source(
        records=lambda scope: procedure.records(**scope.lookup(procedure.PATIENT_FIELD, procedure.CLINIC_FIELD)),
        to_resource=functools.partial(_mapped, procedure),
        patient_of=procedure.patient_of,
        filters={"_id": _ids(procedure.filter_ids), "patient": by_uuid(procedure.PATIENT_UUID_FIELD),
                 "date": by_date(procedure.DATE_FIELD)},
        order_by=("procedure_date", "pk"),
    ),),
))

register(ResourceType(
    name="BodyStructure",
    action="procedure.view",
    search_params=(
        id_param("BodyStructure"),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/BodyStructure-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
    ),
    sources=(Source(
        records=lambda scope: body_structure.records(
            **scope.lookup(body_structure.PATIENT_FIELD, body_structure.CLINIC_FIELD)),
        to_resource=functools.partial(_mapped, body_structure),
        patient_of=body_structure.patient_of,
        filters={"_id": _ids(body_structure.filter_ids), "patient": by_uuid(body_structure.PATIENT_UUID_FIELD)},
        order_by=("procedure__procedure_date", "procedure_id", "position", "pk"),
    ),),
))

register(ResourceType(
    name="MedicationAdministration",
    action="procedure.view",
    search_params=(
        id_param("MedicationAdministration"),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
    ),
    sources=(Source(
        records=lambda scope: medication_administration.records(
            **scope.lookup(medication_administration.PATIENT_FIELD, medication_administration.CLINIC_FIELD)),
        to_resource=functools.partial(_mapped, medication_administration),
        patient_of=medication_administration.patient_of,
        filters={"_id": _ids(medication_administration.filter_ids),
                 "patient": by_uuid(medication_administration.PATIENT_UUID_FIELD)},
        order_by=("procedure__procedure_date", "procedure_id", "pk"),
    ),),
))

# Provenance: note signatures, their amendments, assessment visit signatures. `target` turns on
# `_revinclude=Provenance:target` for every other type.
register(ResourceType(
    name="Provenance",
    action="procedure.view",
    profile=provenance.PROFILE_PROVENANCE,
    search_params=(
        id_param("Provenance"),
        SearchParam("patient", "reference", None,
                    "The patient whose record the targets belong to (`Patient/<id>` or `<id>`); not R4's "
                    "Provenance-patient, which asks for a Patient among the targets.", target="Patient"),
        SearchParam("target", "reference", "http://hl7.org/fhir/SearchParameter/Provenance-target",
                    "What it is about (`Type/id`: a Procedure, Encounter, Condition, DocumentReference, "
                    "MedicationAdministration or BodyStructure)."),
    ),
    sources=(
        Source(
            records=lambda scope: provenance.records(**scope.lookup(provenance.PATIENT_FIELD, provenance.CLINIC_FIELD)),
            to_resource=functools.partial(_mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": _ids(provenance.filter_ids), "patient": by_uuid(provenance.PATIENT_UUID_FIELD),
                     "target": _targets(provenance.filter_targets)},
            order_by=("signed_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.amendment_records(
                **scope.lookup(provenance.AMENDMENT_PATIENT_FIELD, provenance.AMENDMENT_CLINIC_FIELD)),
            to_resource=functools.partial(_mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": _ids(provenance.filter_amendment_ids),
                     "patient": by_uuid(provenance.AMENDMENT_PATIENT_UUID_FIELD),
                     "target": _targets(provenance.filter_amendment_targets)},
            order_by=("created_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.visit_records(**scope.lookup("patient_id")),
            to_resource=functools.partial(_mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": _ids(provenance.filter_visit_ids), "patient": by_uuid("patient__public_id"),
                     "target": _targets(provenance.filter_visit_targets)},
            order_by=("signed_at", "pk"),
        ),
    ),
))

# ---------------------------------------------------------------- Observation (outcome instruments)
# One measurement makes several Observations (its result, and each item of a multi-item instrument):
# one source per part, in `observation.all_parts()` order.
SURVEY = codes_in({"survey"}, observation.OBSERVATION_CATEGORY, "category")


def _codes(match) -> Filter:
    """A `code` filter from the mapper's `code_filter(part)` (tokens as `(system or None, code)`)."""
    return lambda queryset, values: match(queryset, [(v.system or None, v.code) for v in values])


def _observation_source(part) -> Source:
    return Source(
        records=lambda scope: observation.records(part, **scope.lookup(
            observation.PATIENT_FIELD, observation.CLINIC_FIELD)).select_related("patient", "procedure"),
        to_resource=observation.mapper(part),
        patient_of=observation.patient_of,
        filters={"_id": _ids(observation.id_filter(part)), "patient": by_uuid(observation.PATIENT_UUID_FIELD),
                 "category": SURVEY, "code": _codes(observation.code_filter(part)),
                 "date": by_date(f"{observation.DATE_FIELD}__date")},
        order_by=(observation.DATE_FIELD, "pk"),
    )


register(ResourceType(
    name="Observation",
    action="procedure.view",
    profile=observation.PROFILE_OBSERVATION_SCREENING,
    search_params=(
        id_param("Observation"),
        patient_param("Observation"),
        SearchParam("category", "token", f"{US_CORE_SP}us-core-observation-category",
                    "survey (every Observation here is a patient-reported outcome)."),
        SearchParam("code", "token", f"{US_CORE_SP}us-core-observation-code",
                    "The instrument's score or item code: LOINC where verified, else this server's own system."),
        SearchParam("date", "date", f"{US_CORE_SP}us-core-observation-date",
                    "The day it was measured (the clinic's day), with the prefixes eq, ne, gt, lt, ge, le."),
    ),
    combinations=(("patient", "code"), ("patient", "category"), ("patient", "category", "date")),
    sources=tuple(_observation_source(part) for part in observation.all_parts()),
))

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
        filters={"_id": _ids(id_filter), "patient": by_uuid("patient__public_id"),
                 "authored": by_date(f"{date_field}__date"), "questionnaire": questionnaire_filter,
                 "status": _completed},
        order_by=(date_field, "pk"),
    )


def _patient_clinic(scope) -> dict[str, Any]:
    return scope.lookup("patient_id", "clinic_id")


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
        _qr_source(lambda scope: questionnaire_response.records(**_patient_clinic(scope)),
                   questionnaire_response.to_resource, questionnaire_response.filter_ids, "measured_at",
                   _instrument_questionnaire),
        _qr_source(lambda scope: questionnaire_response.checkin_records(**_patient_clinic(scope)),
                   questionnaire_response.checkin_to_resource, questionnaire_response.filter_checkin_ids,
                   "answered_at", _one_questionnaire(questionnaire_response.checkin_questionnaire_id)),
        _qr_source(lambda scope: screening_questionnaire.records(**_patient_clinic(scope)),
                   screening_questionnaire.to_resource, screening_questionnaire.filter_ids,
                   screening_questionnaire.DATE_FIELD, _one_questionnaire(screening_questionnaire.questionnaire_id)),
    ),
))

register(ResourceType(
    name="Flag",
    action="followup.view",
    search_params=(
        id_param("Flag"),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
        SearchParam("status", "token", None,
                    "active (open or acknowledged alerts) | inactive (resolved). R4 defines no Flag status "
                    "search parameter; this server's own."),
    ),
    sources=(Source(
        records=lambda scope: flag.flag_records(**_patient_clinic(scope)),
        to_resource=flag.flag_resource,
        patient_of=flag.patient_of,
        filters={"_id": _ids(flag.filter_ids), "patient": by_uuid(flag.PATIENT_UUID_FIELD), "status": _flag_status},
        order_by=("raised_at", "pk"),
    ),),
))

register(ResourceType(
    name="DetectedIssue",
    action="screening.view",
    search_params=(
        id_param("DetectedIssue"),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
    ),
    sources=(Source(
        records=lambda scope: flag.issue_records(**_patient_clinic(scope)),
        to_resource=flag.detected_issue_resource,
        patient_of=flag.patient_of,
        filters={"_id": _ids(flag.filter_ids), "patient": by_uuid(flag.PATIENT_UUID_FIELD)},
        order_by=("evaluated_at", "pk"),
    ),),
))
