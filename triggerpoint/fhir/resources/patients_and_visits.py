"""Patient, AllergyIntolerance, Condition (encounter diagnoses) and Encounter (assessment and procedure visits)."""

from __future__ import annotations

import functools
import operator
import uuid
from typing import Any

from django.db.models import Q, QuerySet

from triggerpoint.assessment.visit_reads import amended_diagnosis_codes, signed_visit_diagnoses, signed_visits
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    allergy,
    condition,
    encounter,
    patient,
)
from triggerpoint.fhir.params import Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    ResourceType,
    SearchParam,
    Source,
    by_date,
    by_uuid,
    register,
)
from triggerpoint.fhir.resources.shared import (
    by_patient,
    codes_in,
    id_param,
    patient_param,
)
from triggerpoint.patients import selectors as patients
from triggerpoint.procedures.selectors import signed_procedures

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
