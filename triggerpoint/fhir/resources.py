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
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import Q, QuerySet

from triggerpoint.assessment.visit_reads import amended_diagnosis_codes, signed_visit_diagnoses, signed_visits
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    allergy,
    body_structure,
    care_plan,
    condition,
    consent,
    document_reference,
    encounter,
    medication_administration,
    observation,
    patient,
    procedure,
    provenance,
)
from triggerpoint.fhir.params import DateValue, Ref, Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    Filter,
    ResourceType,
    SearchParam,
    Source,
    by_date,
    by_uuid,
    date_q,
    register,
)
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


# ================================================================ documents, plans and consents
# DocumentReference (the signed note's PDF, the assessment visit's PDF), CarePlan (the aftercare
# plan), Consent (the signed consent to the procedure). Their PDFs are served as `Binary`
# (`fhir/binary.py`), read with the same authorization as the resource that points at them.
# Policy: DocumentReference `procedure.view` (the note and the visit are clinicians' records, as
# for Procedure; `assessment.view` has the same roles), CarePlan `aftercare.view`, Consent
# `consent.view` (both also a portal patient's own, as on the portal's pages).
DOCUMENT_CATEGORY_SYSTEM = document_reference.CATEGORY["coding"][0]["system"]
DOCUMENT_STATUS_SYSTEM = "http://hl7.org/fhir/document-reference-status"


def _document_type(kind: dict[str, Any]) -> Filter:
    coding = kind["coding"][0]
    return codes_in({coding["code"]}, coding["system"], "type")


def by_utc_day(field_name: str) -> Filter:
    """A date filter on a moment (a DateTimeField): the value's days are UTC days, as the resource's
    instant (`...Z`) shows them, so `date=2026-03-04` finds what reads `2026-03-04T...Z`."""

    def apply(queryset: QuerySet, values: list[DateValue]) -> QuerySet:
        q = Q(pk__in=[])
        for value in values:
            start = datetime.combine(value.start, time.min, tzinfo=UTC)
            end = datetime.combine(value.end, time.min, tzinfo=UTC) if value.end else None
            q |= date_q(field_name, DateValue(value.prefix, start, end))
        return queryset.filter(q)

    return apply


def _document_source(records, to_resource, ids, kind: dict[str, Any], order_by: tuple[str, ...]) -> Source:
    return Source(
        records=records,
        to_resource=to_resource,
        patient_of=document_reference.patient_of,
        filters={"_id": _ids(ids), "patient": by_uuid(document_reference.PATIENT_UUID_FIELD),
                 "category": codes_in({"clinical-note"}, DOCUMENT_CATEGORY_SYSTEM, "category"),
                 "type": _document_type(kind), "date": by_utc_day("signed_at"),
                 "status": codes_in({"current"}, DOCUMENT_STATUS_SYSTEM, "status")},
        order_by=order_by,
    )


register(ResourceType(
    name="DocumentReference",
    action="procedure.view",
    profile=document_reference.PROFILE_DOCUMENT_REFERENCE,
    search_params=(
        SearchParam("_id", "token", f"{US_CORE_SP}us-core-documentreference-id", "The resource's logical id."),
        patient_param("DocumentReference"),
        SearchParam("category", "token", f"{US_CORE_SP}us-core-documentreference-category",
                    "clinical-note (every document here is a clinical note)."),
        SearchParam("type", "token", f"{US_CORE_SP}us-core-documentreference-type",
                    "LOINC 28570-0 (procedure note) or 11488-4 (consult note: the assessment visit)."),
        SearchParam("date", "date", f"{US_CORE_SP}us-core-documentreference-date",
                    "When it was signed (the UTC day), with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("status", "token", f"{US_CORE_SP}us-core-documentreference-status",
                    "current (a signed note or visit is never superseded; amendments are added to it)."),
    ),
    combinations=(("patient",), ("patient", "category"), ("patient", "category", "date"), ("patient", "type"),
                  ("patient", "status")),
    sources=(
        _document_source(
            lambda scope: document_reference.records(**scope.lookup(document_reference.PATIENT_FIELD,
                                                                    document_reference.CLINIC_FIELD)),
            functools.partial(_mapped, document_reference), document_reference.filter_ids,
            document_reference.NOTE_TYPE, ("procedure_date", "pk")),
        _document_source(
            lambda scope: document_reference.visit_records(**scope.lookup(document_reference.PATIENT_FIELD,
                                                                          document_reference.CLINIC_FIELD)),
            functools.partial(_mapped, document_reference), document_reference.filter_visit_ids,
            document_reference.VISIT_TYPE, ("visit_date", "pk")),
    ),
))

register(ResourceType(
    name="CarePlan",
    action="aftercare.view",
    profile=care_plan.PROFILE_CARE_PLAN,
    search_params=(
        id_param("CarePlan"),
        patient_param("CarePlan"),
        SearchParam("category", "token", f"{US_CORE_SP}us-core-careplan-category",
                    "assess-plan (every plan here is the aftercare plan of a procedure)."),
    ),
    combinations=(("patient", "category"),),
    sources=(Source(
        records=lambda scope: care_plan.records(**scope.lookup(care_plan.PATIENT_FIELD, care_plan.CLINIC_FIELD)),
        to_resource=functools.partial(_mapped, care_plan),
        patient_of=care_plan.patient_of,
        filters={"_id": _ids(care_plan.filter_ids), "patient": by_uuid(care_plan.PATIENT_UUID_FIELD),
                 "category": codes_in({"assess-plan"}, care_plan.ASSESS_PLAN["coding"][0]["system"], "category")},
        order_by=("procedure_date", "pk"),
    ),),
))

register(ResourceType(
    name="Consent",
    action="consent.view",
    search_params=(
        id_param("Consent"),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
                    "The patient (`Patient/<id>` or `<id>`).", target="Patient"),
    ),
    sources=(Source(
        records=lambda scope: consent.records(**scope.lookup(consent.PATIENT_FIELD, consent.CLINIC_FIELD)),
        to_resource=functools.partial(_mapped, consent),
        patient_of=consent.patient_of,
        filters={"_id": _ids(consent.filter_ids), "patient": by_uuid(consent.PATIENT_UUID_FIELD)},
        order_by=("signed_at", "pk"),
    ),),
))
