"""Procedure: one signed trigger point note as a US Core Procedure.

Registration (h-fhir's registry; see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[Procedure]`` - signed notes with what the mapper reads prefetched;
  ``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD`` ``clinic_id``; searches: ``patient`` on
  ``patient__public_id``, ``date`` on ``procedure_date`` (the day ``performedDateTime`` records);
* ``to_resource(procedure, *, base_url=None) -> dict``; ``patient_of(procedure)``;
* ``filter_ids(queryset, ids)`` - id = the note's public id; ``get(id, clinic)``, ``resources_for_patient``.

What it says: status ``completed`` with ``performedDateTime`` (US Core constraint us-core-7: the time
the note records, else the procedure day); the CPT lines the note was signed with
(``Procedure.codes``, the coder's snapshot) in ``code``; the performing clinician for the clinic;
one ``bodySite`` per injected muscle and side, its text naming the side, its coding the muscle's
SNOMED CT code when the standard-codes table has a verified one; the laterality itself is a SNOMED
CT qualifier value on the BodyStructure each site points to (``procedure-targetBodyStructure``,
an R4 core extension), because a CodeableConcept holds one concept and cannot carry a qualifier
beside the muscle without a post-coordinated expression validators cannot check.
``reasonReference`` names the Conditions (the linked assessment's diagnoses whose ICD-10-CM codes
the note lists); a code with no such diagnosis is sent as ``reasonCode`` instead.
"""

from __future__ import annotations

import sys
from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.fhir.mapping import body_structure
from triggerpoint.fhir.mapping.clinical_common import (
    CPT,
    ICD10CM,
    PROFILE_PROCEDURE,
    base_or_default,
    codeable,
    condition_id,
    first_by_id,
    for_patients,
    instant,
    organization_reference,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    standard_coding,
    start_of_day,
    uuids,
)
from triggerpoint.procedures import selectors as procedure_selectors

TARGET_BODY_STRUCTURE = "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"
PRETEXT = {"injection": "Trigger point injection", "dry_needling": "Trigger point dry needling"}
PREFETCH = ("sites", "injectates", "assessment__diagnoses")
RELATED = ("patient", "clinic", "performed_by", "signed_by", "assessment")


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD, DATE_FIELD = "patient_id", "clinic_id", "patient__public_id", "procedure_date"


def records(**filters):
    return (procedure_selectors.signed_procedures(**filters)
            .select_related(*RELATED).prefetch_related(*PREFETCH).order_by("-procedure_date", "-signed_at", "-pk"))


def patient_of(procedure):
    return procedure.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids))


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


def performed(procedure) -> str:
    """When the procedure was done: the time the note records, else the procedure day (clinic's midnight)."""
    return instant(procedure.performed_at) or start_of_day(procedure.procedure_date, procedure.clinic)


def cpt_codes(procedure) -> list[dict[str, Any]]:
    """The CPT lines the note was signed with (the coder's snapshot), one Coding each."""
    lines = (procedure.codes or {}).get("cpt") or []
    return [prune({"system": CPT, "code": line["code"], "display": line.get("description")}) for line in lines]


def reasons(procedure) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(reasonReference, reasonCode): the assessment's diagnoses the note names, else the bare ICD-10-CM code."""
    codes = [code for code in (procedure.diagnosis_codes or []) if code]
    diagnoses = {}
    if procedure.assessment is not None:
        for diagnosis in procedure.assessment.diagnoses.all():
            if getattr(diagnosis, "deleted_at", None) is None:
                diagnoses.setdefault(diagnosis.code, diagnosis)
    references, bare = [], []
    for code in codes:
        diagnosis = diagnoses.get(code)
        if diagnosis is not None:
            references.append({"reference": f"Condition/{condition_id(diagnosis)}",
                               "display": f"{diagnosis.code} {diagnosis.description}"})
        else:
            bare.append({"coding": [{"system": ICD10CM, "code": code}], "text": code})
    return references, bare


def body_sites(procedure, base_url: str) -> list[dict[str, Any]]:
    atlas = load_atlas()
    concepts = []
    for site in body_structure.ordered_sites(procedure):
        name = atlas.muscle(site.muscle).name if atlas.has_muscle(site.muscle) else site.muscle
        coding, verified = standard_coding("muscle", site.muscle, base_url, name)
        concept = codeable(coding, f"{site.side.capitalize()} {name}".strip())
        concepts.append(concept)
    return concepts


def to_resource(procedure, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    codes = cpt_codes(procedure)
    techniques = {site.technique for site in procedure.sites.all()}
    text = " and ".join(PRETEXT.get(t, t) for t in sorted(techniques)) or "Trigger point procedure"
    references, bare = reasons(procedure)
    sites = body_structure.ordered_sites(procedure)
    resource = {
        "resourceType": "Procedure",
        "id": str(procedure.public_id),
        "meta": {"profile": [PROFILE_PROCEDURE]},
        "extension": [
            {"url": TARGET_BODY_STRUCTURE, "valueReference": {"reference": f"BodyStructure/{body_structure.site_id(procedure, n)}"}}
            for n, _site in enumerate(sites, start=1)
        ],
        "status": "completed",
        "code": {"coding": codes, "text": text},
        "subject": patient_reference(procedure.patient),
        "encounter": procedure_encounter_reference(procedure),
        "performedDateTime": performed(procedure),
        "recorder": practitioner_reference(procedure.signed_by),
        "performer": [{
            "actor": practitioner_reference(procedure.performed_by),
            "onBehalfOf": organization_reference(procedure.clinic),
        }],
        "reasonReference": references,
        "reasonCode": bare,
        "bodySite": body_sites(procedure, base_url),
        "note": [{"text": procedure.notes}] if procedure.notes else [],
    }
    return prune(resource)
