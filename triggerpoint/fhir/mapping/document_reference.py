"""DocumentReference: the signed procedure note's PDF and the assessment visit's summary PDF.

Registration:

* ``to_resource(record, *, base_url: str) -> dict`` - ``record`` is a signed ``procedures.Procedure``
  (id ``note-<procedure public id>``) or a signed ``assessment.Visit`` (id ``visit-<visit public id>``);
* ``get(resource_id: str, clinic) -> Procedure | Visit | None``;
* ``resources_for_patient(patient_ids, clinic, visits=None) -> iterator`` - the patients' signed notes,
  then their signed visits: the ``visits`` given (the Encounter mapper's signed visits, when the
  registry has them), else the visits the signed notes were written from. A visit with no note is
  only listed when ``visits`` is given (assessment has no selector for signed visits yet).

US Core DocumentReference: status ``current``, category ``clinical-note``, type LOINC 28570-0
"Procedure note" for the note and 11488-4 "Consult note" for the assessment (both in US Core 6.1.0's
``us-core-clinical-note-type`` value set, the package in ../shared/fhir), the signer as author and
authenticator, the visit as ``context.encounter``. ``content.attachment.url`` is the page that
already serves the PDF (``procedures:pdf``, ``assessment:summary_pdf``; access-controlled and
audited like any page), ``contentType`` application/pdf.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.urls import reverse

from triggerpoint.fhir.mapping import procedure as procedure_mapper
from triggerpoint.fhir.mapping.clinical_common import (
    LOINC,
    PROFILE_DOCUMENT_REFERENCE,
    instant,
    organization_reference,
    parse_uuid,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    site_root,
    start_of_day,
)
from triggerpoint.procedures import selectors as procedure_selectors

CATEGORY = {"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "code": "clinical-note", "display": "Clinical Note"}], "text": "Clinical Note"}
NOTE_TYPE = {"coding": [{"system": LOINC, "code": "28570-0", "display": "Procedure note"}], "text": "Procedure note"}
VISIT_TYPE = {"coding": [{"system": LOINC, "code": "11488-4", "display": "Consult note"}], "text": "Consult note"}
NOTE_PREFIX, VISIT_PREFIX = "note-", "visit-"


def is_visit(record) -> bool:
    return hasattr(record, "visit_date")


def document_id(record) -> str:
    return (VISIT_PREFIX if is_visit(record) else NOTE_PREFIX) + str(record.public_id)


def resources_for_patient(patient_ids, clinic, visits: Iterable | None = None) -> Iterator:
    notes = list(procedure_mapper.resources_for_patient(patient_ids, clinic))
    yield from notes
    if visits is None:
        seen = {}
        for note in notes:
            visit = note.assessment
            if visit is not None and visit.signed_at is not None:
                seen.setdefault(visit.pk, visit)
        visits = seen.values()
    for visit in visits:
        if visit.signed_at is not None:
            yield visit


def get(resource_id: str, clinic):
    text = str(resource_id)
    if text.startswith(NOTE_PREFIX):
        return procedure_mapper.get(text.removeprefix(NOTE_PREFIX), clinic)
    if text.startswith(VISIT_PREFIX):
        key = parse_uuid(text.removeprefix(VISIT_PREFIX))
        if key is None:
            return None
        note = (procedure_selectors.signed_procedures(assessment__public_id=key, clinic=clinic)
                .select_related("assessment__patient", "assessment__signed_by", "assessment__clinic").first())
        visit = note.assessment if note is not None else None
        return visit if visit is not None and visit.signed_at is not None else None
    return None


def _attachment(url: str, title: str, created) -> dict[str, Any]:
    return {"contentType": "application/pdf", "language": "en-US", "url": url, "title": title, "creation": created}


def to_resource(record, *, base_url: str) -> dict[str, Any]:
    root = site_root(base_url)
    if is_visit(record):
        url = root + reverse("assessment:summary_pdf", args=[record.patient.public_id, record.public_id])
        title = f"Assessment visit {record.visit_date.isoformat()}"
        kind, encounter = VISIT_TYPE, {"reference": f"Encounter/{record.public_id}"}
        when = record.visit_date
        signer = record.signed_by
    else:
        url = root + reverse("procedures:pdf", args=[record.patient.public_id, record.public_id])
        title = f"Trigger point procedure note {record.procedure_date.isoformat()}"
        kind, encounter = NOTE_TYPE, procedure_encounter_reference(record)
        when = record.procedure_date
        signer = record.signed_by
    signed = instant(record.signed_at)
    resource = {
        "resourceType": "DocumentReference",
        "id": document_id(record),
        "meta": {"profile": [PROFILE_DOCUMENT_REFERENCE]},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{record.public_id}"}],
        "status": "current",
        "docStatus": "amended" if record.amendments.exists() else "final",
        "type": kind,
        "category": [CATEGORY],
        "subject": patient_reference(record.patient),
        "date": signed,
        "author": [practitioner_reference(signer)],
        "authenticator": practitioner_reference(signer),
        "custodian": organization_reference(record.clinic),
        "description": title,
        "content": [{"attachment": _attachment(url, title, signed)}],
        "context": {
            "encounter": [encounter],
            "period": {"start": start_of_day(when, record.clinic)},
        },
    }
    return prune(resource)
