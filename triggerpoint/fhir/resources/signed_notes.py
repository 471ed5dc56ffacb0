"""What signed notes and outcome measurements yield: Procedure, BodyStructure, MedicationAdministration,
Provenance, Observation."""

from __future__ import annotations

import functools

from triggerpoint.fhir.mapping import (
    body_structure,
    medication_administration,
    observation,
    procedure,
    provenance,
)
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    Filter,
    ResourceType,
    SearchParam,
    Source,
    by_date,
    register,
)
from triggerpoint.fhir.resources.shared import (
    by_patient,
    clinical_patient_param,
    codes_in,
    id_param,
    ids_filter,
    mapped,
    patient_param,
    targets_filter,
)

# ---------------------------------------------------------------- clinical records of signed notes (mapping/)


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
        to_resource=functools.partial(mapped, procedure),
        patient_of=procedure.patient_of,
        filters={"_id": ids_filter(procedure.filter_ids), "patient": by_patient(procedure.PATIENT_UUID_FIELD),
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
        to_resource=functools.partial(mapped, body_structure),
        patient_of=body_structure.patient_of,
        filters={"_id": ids_filter(body_structure.filter_ids), "patient": by_patient(body_structure.PATIENT_UUID_FIELD)},
        order_by=("procedure__procedure_date", "procedure_id", "position", "pk"),
    ),),
))

register(ResourceType(
    name="MedicationAdministration",
    action="procedure.view",
    search_params=(
        id_param("MedicationAdministration"),
        clinical_patient_param(),
    ),
    sources=(Source(
        records=lambda scope: medication_administration.records(
            **scope.lookup(medication_administration.PATIENT_FIELD, medication_administration.CLINIC_FIELD)),
        to_resource=functools.partial(mapped, medication_administration),
        patient_of=medication_administration.patient_of,
        filters={"_id": ids_filter(medication_administration.filter_ids),
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
            to_resource=functools.partial(mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": ids_filter(provenance.filter_ids), "patient": by_patient(provenance.PATIENT_UUID_FIELD),
                     "target": targets_filter(provenance.filter_targets)},
            order_by=("signed_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.amendment_records(
                **scope.lookup(provenance.AMENDMENT_PATIENT_FIELD, provenance.AMENDMENT_CLINIC_FIELD)),
            to_resource=functools.partial(mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": ids_filter(provenance.filter_amendment_ids),
                     "patient": by_patient(provenance.AMENDMENT_PATIENT_UUID_FIELD),
                     "target": targets_filter(provenance.filter_amendment_targets)},
            order_by=("created_at", "pk"),
        ),
        Source(
            records=lambda scope: provenance.visit_records(**scope.lookup("patient_id")),
            to_resource=functools.partial(mapped, provenance),
            patient_of=provenance.patient_of,
            filters={"_id": ids_filter(provenance.filter_visit_ids), "patient": by_patient("patient__public_id"),
                     "target": targets_filter(provenance.filter_visit_targets)},
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
        filters={"_id": ids_filter(observation.id_filter(part)), "patient": by_patient(observation.PATIENT_UUID_FIELD),
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
