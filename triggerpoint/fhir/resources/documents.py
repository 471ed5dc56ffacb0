"""DocumentReference, CarePlan and Consent (their PDFs are `Binary`, fhir/binary.py)."""

from __future__ import annotations

import functools
from typing import Any

from triggerpoint.fhir.mapping import (
    care_plan,
    consent,
    document_reference,
)
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
    codes_in,
    id_param,
    ids_filter,
    mapped,
    patient_param,
)

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
        filters={"_id": ids_filter(ids), "patient": by_uuid(document_reference.PATIENT_UUID_FIELD),
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
            functools.partial(mapped, document_reference), document_reference.filter_ids,
            document_reference.NOTE_TYPE, ("procedure_date", "pk")),
        _document_source(
            lambda scope: document_reference.visit_records(**scope.lookup(document_reference.PATIENT_FIELD,
                                                                          document_reference.CLINIC_FIELD)),
            functools.partial(mapped, document_reference), document_reference.filter_visit_ids,
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
        to_resource=functools.partial(mapped, care_plan),
        patient_of=care_plan.patient_of,
        filters={"_id": ids_filter(care_plan.filter_ids), "patient": by_uuid(care_plan.PATIENT_UUID_FIELD),
                 "category": codes_in({"assess-plan"}, care_plan.ASSESS_PLAN["coding"][0]["system"], "category")},
        order_by=("procedure_date", "pk"),
    ),),
))

register(ResourceType(
    name="Consent",
    action="consent.view",
    search_params=(
        id_param("Consent"),
        clinical_patient_param(),
    ),
    sources=(Source(
        records=lambda scope: consent.records(**scope.lookup(consent.PATIENT_FIELD, consent.CLINIC_FIELD)),
        to_resource=functools.partial(mapped, consent),
        patient_of=consent.patient_of,
        filters={"_id": ids_filter(consent.filter_ids), "patient": by_uuid(consent.PATIENT_UUID_FIELD)},
        order_by=("signed_at", "pk"),
    ),),
))
