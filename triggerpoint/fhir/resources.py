"""The resource types /fhir/R4/ serves, registered with `registry.register` (see `registry` for how to add one).

Records are read only through the owning apps' selectors; the mappers in `mapping/` are pure.
Policy actions mirror the pages and /api/v1/: Patient needs `patient.view` (front desk too),
AllergyIntolerance `patient.view_clinical`, Condition and Encounter `assessment.view`
(clinicians; `procedure.view` is granted to the same roles); what signed notes and outcome
measurements yield (Procedure, BodyStructure, MedicationAdministration, Provenance, Observation)
`procedure.view`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import operator
import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone as _timezone

from triggerpoint.accounts.selectors import practitioners as _practitioners
from triggerpoint.accounts.selectors import usernames_of as _usernames_of
from triggerpoint.assessment.visit_reads import amended_diagnosis_codes, signed_visit_diagnoses, signed_visits
from triggerpoint.audit import services as _audit_services
from triggerpoint.audit.selectors import trail as _trail
from triggerpoint.catalogues.instruments import load_instruments
from triggerpoint.clinics.selectors import clinics as _clinics
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    allergy,
    audit_event,
    body_structure,
    care_plan,
    condition,
    consent,
    directory,
    document_reference,
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
from triggerpoint.fhir.params import DateValue, Ref, Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    Filter,
    ResourceType,
    SearchParam,
    Source,
    by_date,
    by_utc_day,
    by_uuid,
    date_q,
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


def by_patient(uuid_field: str) -> Filter:
    """The `patient` reference filter: the records of every chart that makes up the patient named (a merged
    patient's absorbed charts too, `patients.selectors.chart_ids_named`), matched on the primary key beside
    `uuid_field` (``patient__public_id`` -> ``patient_id``; ``public_id``, the patient row itself -> ``pk``)."""
    pk_field = "pk" if uuid_field == "public_id" else uuid_field.removesuffix("__public_id") + "_id"

    def apply(queryset: QuerySet, values: list[Any]) -> QuerySet:
        named = _uuids(ids_of_values(values))
        return queryset.filter(**{f"{pk_field}__in": patients.chart_ids_named(named) if named else []})

    return apply


def _uuids(ids: list[str]) -> list[uuid.UUID]:
    found = []
    for value in ids:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


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
    # A chart merged into another: read answers it (active false, `link` replaced-by the survivor); no search
    # or `$everything` lists it, its records are the survivor's (`by_patient`). The read is audited under
    # the surviving patient.
    replaced=Source(
        records=lambda scope: patients.merged_charts(**scope.lookup("pk")),
        to_resource=patient.to_fhir,
        patient_of=lambda record: record.merged_into,
        filters={"_id": by_uuid("public_id")},
    ),
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
            filters={"_id": by_uuid("public_id"), "patient": by_patient("patient__public_id"), "clinical-status": ACTIVE},
        ),
        Source(
            records=lambda scope: patients.patients_without_known_drug_allergies(**scope.lookup("pk")),
            to_resource=allergy.nkda_to_fhir,
            patient_of=lambda record: record,
            filters={"_id": by_uuid("public_id", prefix=allergy.NKDA_ID_PREFIX), "patient": by_patient("public_id"),
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
        filters={"_id": by_uuid("public_id"), "patient": by_patient("visit__patient__public_id"),
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
            filters={"_id": by_uuid("public_id"), "patient": by_patient("patient__public_id"),
                     "date": by_date("visit_date"), "status": FINISHED},
            order_by=("visit_date", "pk"),
        ),
        Source(
            records=lambda scope: signed_procedures(**scope.lookup("patient_id")).select_related(
                "performed_by", "patient", "patient__clinic"),
            to_resource=encounter.procedure_to_fhir,
            patient_of=lambda record: record.patient,
            filters={"_id": by_uuid("public_id"), "patient": by_patient("patient__public_id"),
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
        filters={"_id": _ids(procedure.filter_ids), "patient": by_patient(procedure.PATIENT_UUID_FIELD),
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
        filters={"_id": _ids(body_structure.filter_ids), "patient": by_patient(body_structure.PATIENT_UUID_FIELD)},
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
                 "patient": by_patient(medication_administration.PATIENT_UUID_FIELD)},
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
            filters={"_id": _ids(provenance.filter_ids), "patient": by_patient(provenance.PATIENT_UUID_FIELD),
                     "target": _targets(provenance.filter_targets)},
            order_by=("signed_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.amendment_records(
                **scope.lookup(provenance.AMENDMENT_PATIENT_FIELD, provenance.AMENDMENT_CLINIC_FIELD)),
            to_resource=functools.partial(_mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": _ids(provenance.filter_amendment_ids),
                     "patient": by_patient(provenance.AMENDMENT_PATIENT_UUID_FIELD),
                     "target": _targets(provenance.filter_amendment_targets)},
            order_by=("created_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.visit_records(**scope.lookup("patient_id")),
            to_resource=functools.partial(_mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": _ids(provenance.filter_visit_ids), "patient": by_patient("patient__public_id"),
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
        filters={"_id": _ids(observation.id_filter(part)), "patient": by_patient(observation.PATIENT_UUID_FIELD),
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


# ================================================================ audit, practitioners and organizations
# (issue 18) The audit trail as AuditEvent, for the clinic admin and SMART clients granted it; the
# staff and the clinic that the clinical resources point at (`Practitioner/<user id>`,
# `Organization/<clinic id>`). None of the three is a patient's record: `patient_param=None` keeps
# them out of `$everything`; Practitioner and Organization name no patient (`patient_of` None, so
# nothing is audited per patient); an AuditEvent that names a patient is audited for that patient as
# the audit log page audits the patients it lists, and every read or search of the trail is recorded
# once as `audit.log.read` (`audit_access`). The trail is never counted (`count_total=False`).




def _none_for_portal(scope, queryset: QuerySet) -> QuerySet:
    """Staff directory and trail: a portal account's scope (one patient) sees none of it."""
    return queryset.none() if scope.patient_id is not None else queryset


# ---------------------------------------------------------------- Practitioner (staff accounts)
def _practitioner_name(queryset: QuerySet, values: list[str]) -> QuerySet:
    q = Q(pk__in=[])
    for value in values:
        text = value.strip()
        q |= Q(first_name__istartswith=text) | Q(last_name__istartswith=text)
    return queryset.filter(q)


def _practitioner_identifier(queryset: QuerySet, values: list[Token]) -> QuerySet:
    usernames = []
    for value in values:
        if not value.code:
            raise invalid("Parameter 'identifier' needs a value (system|username or username).")
        if value.system in (None, directory.username_system()):
            usernames.append(value.code)
    return queryset.filter(username__in=usernames)


register(ResourceType(
    name="Practitioner",
    action="practitioner.view",
    profile=directory.PROFILE_PRACTITIONER,
    patient_param=None,
    search_params=(
        id_param("Practitioner"),
        SearchParam("identifier", "token", f"{US_CORE_SP}us-core-practitioner-identifier",
                    "The username: `value`, or `system|value` with this server's system "
                    "(<base>/NamingSystem/staff-username). No NPI is stored."),
        SearchParam("name", "string", f"{US_CORE_SP}us-core-practitioner-name",
                    "A given or family name starting with the value (case ignored)."),
    ),
    sources=(Source(
        records=lambda scope: _none_for_portal(scope, _practitioners(scope.clinic_id)),
        to_resource=directory.practitioner_to_fhir,
        patient_of=lambda user: None,
        filters={"_id": by_uuid("public_id"), "identifier": _practitioner_identifier, "name": _practitioner_name},
        order_by=("last_name", "first_name", "username", "pk"),
    ),),
))


# ---------------------------------------------------------------- Organization (the caller's clinic)
def _organization_name(queryset: QuerySet, values: list[str]) -> QuerySet:
    q = Q(pk__in=[])
    for value in values:
        text = value.strip()
        q |= Q(name__istartswith=text) | Q(name__icontains=f" {text}")
    return queryset.filter(q)


register(ResourceType(
    name="Organization",
    action="organization.view",
    profile=directory.PROFILE_ORGANIZATION,
    patient_param=None,
    search_params=(
        id_param("Organization"),
        SearchParam("name", "string", f"{US_CORE_SP}us-core-organization-name",
                    "A word of the clinic's name starting with the value (case ignored)."),
    ),
    sources=(Source(
        records=lambda scope: _clinics(pk=scope.clinic_id),
        to_resource=directory.organization_to_fhir,
        patient_of=lambda clinic: None,
        filters={"_id": by_uuid("public_id"), "name": _organization_name},
    ),),
))


# ---------------------------------------------------------------- AuditEvent (the clinic's audit trail)
# Every filter narrows an indexed column of the trail (audit.selectors.trail): pk, at, patient,
# actor_label, action (the type, subtype and action codes become lists of stored action names).
_EARLIEST = _dt.datetime.min.replace(tzinfo=_dt.UTC)
_LATEST = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def _clinic_midnight(day: _dt.date, fallback: _dt.datetime) -> _dt.datetime:
    """The start of `day` in the active zone (the caller's clinic, `views._principal`), in UTC."""
    try:
        return _dt.datetime.combine(day, _dt.time.min, tzinfo=_timezone.get_current_timezone()).astimezone(_dt.UTC)
    except (OverflowError, ValueError):
        return fallback


def _audit_date(queryset: QuerySet, values: list[DateValue]) -> QuerySet:
    """Days are the clinic's days: `date=2026-12-05` is that day's midnight to midnight in its zone."""
    q = None
    for value in values:
        start = _clinic_midnight(value.start, _EARLIEST)
        end = _clinic_midnight(value.end, _LATEST) if value.end else None
        part = date_q("at", DateValue(value.prefix, start, end))
        q = part if q is None else q | part
    return queryset.filter(q)


def _audit_ids(queryset: QuerySet, values: list[Any]) -> QuerySet:
    ids = [int(i) for i in ids_of_values(values) if i.isascii() and i.isdigit() and len(i) <= 18]
    return queryset.filter(pk__in=ids)


def _audit_agent(queryset: QuerySet, values: list[Ref]) -> QuerySet:
    """`Practitioner/<id>`, or a username (`agent=dr.rivera`): the events of those users."""
    public_ids, usernames = [], []
    for value in values:
        try:
            public_ids.append(uuid.UUID(value.id))
        except ValueError:
            usernames.append(value.id)
    if public_ids:  # usernames are unique across clinics; the trail is already the caller's clinic's
        usernames += _usernames_of(public_ids)
    return queryset.filter(actor_label__in=usernames)


def _audit_altid(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(actor_label__in=[v.code for v in values if v.code])


def _audit_action(queryset: QuerySet, values: list[Token]) -> QuerySet:
    codes = set()
    for value in values:
        if value.code not in audit_event.ACTION_CODES:
            raise invalid(f"Parameter 'action': {value.code!r} is not one of C, R, U, D, E.")
        codes.add(value.code)
    return queryset.filter(action__in=audit_event.actions_with(lambda name: audit_event.action_code(name) in codes))


def _coding_matches(coding: dict[str, str], value: Token) -> bool:
    return coding["code"] == value.code and value.system in (None, coding["system"])


def _audit_type(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(action__in=audit_event.actions_with(
        lambda name: any(_coding_matches(audit_event.type_coding(name), v) for v in values)))


def _in_family(name: str, value: Token) -> bool:
    """Our action family: `procedures`, `procedures.procedure` or a whole action name (dot-bounded)."""
    if value.system not in (None, audit_event.action_system()) or not value.code.strip("."):
        return False
    family = value.code.strip(".")
    current = audit_event.current_name(name)
    return current == family or current.startswith(family + ".")


def _audit_subtype(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(action__in=audit_event.actions_with(
        lambda name: any(_in_family(name, v) or any(c["system"] == audit_event.RESTFUL and _coding_matches(c, v)
                                                    for c in audit_event.subtype_codings(name)) for v in values)))


def _audit_trail_read(scope, actor, details: dict[str, Any]) -> None:
    _audit_services.record("audit.log.read", clinic=_clinics(pk=scope.clinic_id).first(), details=details,
                           actor=actor)


register(ResourceType(
    name="AuditEvent",
    action="audit.view",
    patient_param=None,  # the trail is not the patient's record: never in $everything
    count_total=False,
    audit_access=_audit_trail_read,
    search_params=(
        id_param("AuditEvent"),
        SearchParam("date", "date", "http://hl7.org/fhir/SearchParameter/AuditEvent-date",
                    "When it was recorded: the clinic's day (its time zone), with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
                    "The patient the event names (`Patient/<id>` or `<id>`).", target="Patient"),
        SearchParam("agent", "reference", "http://hl7.org/fhir/SearchParameter/AuditEvent-agent",
                    "Who acted: `Practitioner/<id>`, or a username.", target="Practitioner"),
        SearchParam("altid", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-altid",
                    "Who acted, by exact username (any characters; `smart:<client id>` for a SMART client)."),
        SearchParam("action", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-action",
                    "C, R, U, D or E (from the action's verb; a search is E)."),
        SearchParam("type", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-type",
                    "audit-event-type|rest (the FHIR interface), DICOM 110114, 110113, 110106, or the app "
                    "that recorded it (<base>/CodeSystem/audit-action-family|procedures)."),
        SearchParam("subtype", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-subtype",
                    "Our action family, as on the audit log page: `procedures`, `procedures.procedure` or "
                    "a whole action name (legacy names included); or restful-interaction|read, search-type, "
                    "operation."),
    ),
    sources=(Source(
        records=lambda scope: _none_for_portal(scope, _trail(scope.clinic_id)),
        to_resource=audit_event.to_resource,
        patient_of=lambda event: event.patient if event.patient_id is not None else None,
        filters={"_id": _audit_ids, "date": _audit_date, "patient": by_uuid("patient__public_id"),
                 "agent": _audit_agent, "altid": _audit_altid, "action": _audit_action, "type": _audit_type,
                 "subtype": _audit_subtype},
        order_by=("at", "pk"),  # oldest first: the trail grows only at its end, so pages never shift
    ),),
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
                 "authored": by_utc_day(date_field), "questionnaire": questionnaire_filter,
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
