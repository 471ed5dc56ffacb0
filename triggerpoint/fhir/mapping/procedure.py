"""Procedure: one signed trigger point note as a US Core Procedure.

Registration (h-fhir's registry):

* ``to_resource(procedure, *, base_url: str) -> dict`` - one signed ``procedures.Procedure``;
* ``get(resource_id: str, clinic) -> Procedure | None`` - the signed note with that public id in the clinic;
* ``resources_for_patient(patient_ids, clinic) -> QuerySet[Procedure]`` - the patients' signed notes,
  newest first, with what the mapper reads prefetched (the ``patient=`` search and ``$everything``);
  ``date`` narrows on ``procedure_date`` (``performedDateTime`` is the day the note records).

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

from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.fhir.mapping import body_structure
from triggerpoint.fhir.mapping.clinical_common import (
    CPT,
    ICD10CM,
    PROFILE_PROCEDURE,
    codeable,
    condition_id,
    instant,
    organization_reference,
    parse_uuid,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    standard_coding,
    start_of_day,
)
from triggerpoint.procedures import selectors as procedure_selectors

TARGET_BODY_STRUCTURE = "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"
PRETEXT = {"injection": "Trigger point injection", "dry_needling": "Trigger point dry needling"}
PREFETCH = ("sites", "injectates", "assessment__diagnoses")
RELATED = ("patient", "clinic", "performed_by", "signed_by", "assessment")


def resources_for_patient(patient_ids, clinic):
    return (procedure_selectors.signed_procedures(patient_id__in=list(patient_ids), clinic=clinic)
            .select_related(*RELATED).prefetch_related(*PREFETCH).order_by("-procedure_date", "-signed_at"))


def get(resource_id: str, clinic):
    key = parse_uuid(resource_id)
    if key is None:
        return None
    return (procedure_selectors.signed_procedures(public_id=key, clinic=clinic)
            .select_related(*RELATED).prefetch_related(*PREFETCH).first())


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


def to_resource(procedure, *, base_url: str) -> dict[str, Any]:
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
