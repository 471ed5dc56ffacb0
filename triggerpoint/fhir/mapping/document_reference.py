"""DocumentReference: the signed procedure note's PDF and the assessment visit's summary PDF.

Registration: two sources, one row = one resource.

* notes: ``records(**filters)`` = ``procedure.records`` (signed notes; ``PATIENT_FIELD`` ``patient_id``,
  ``CLINIC_FIELD`` ``clinic_id``, ``patient`` on ``patient__public_id``), ``filter_ids`` (id
  ``note-<procedure public id>``);
* visits: ``visit_records(**filters)`` (signed assessment visits, ``assessment.visit_reads.signed_visits``;
  same field names) with ``filter_visit_ids`` (id ``visit-<visit public id>``); the same
  ``to_resource`` maps both;
* ``to_resource(note or visit, *, base_url=None) -> dict``; ``patient_of``; ``get(id, clinic)``;
  ``resources_for_patient(patient_ids, clinic)`` - notes, then visits.

US Core DocumentReference: status ``current``, category ``clinical-note``, type LOINC 28570-0
"Procedure note" for the note and 11488-4 "Consult note" for the assessment (both in US Core 6.1.0's
``us-core-clinical-note-type`` value set, the package in ../shared/fhir), the signer as author and
authenticator, the visit as ``context.encounter``. ``content.attachment.url`` is the PDF as a FHIR
``Binary`` under the same base (``Binary/<this resource's id>``, ``fhir/binary.py``): a client
follows it with the same token it read this with, and the read is authorized and audited like
this one; ``contentType`` application/pdf.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from triggerpoint.assessment import visit_reads
from triggerpoint.fhir.mapping.clinical_common import (
    LOINC,
    PROFILE_DOCUMENT_REFERENCE,
    base_or_default,
    first_by_id,
    for_patients,
    instant,
    organization_reference,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    start_of_day,
    uuids,
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


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"


def records(**filters):
    """Signed notes with what the resource names loaded (amendments: `docStatus`), one query each."""
    return (procedure_selectors.signed_procedures(**filters)
            .select_related("patient", "clinic", "signed_by").prefetch_related("amendments")
            .order_by("-procedure_date", "-signed_at", "-pk"))


def patient_of(record):
    return record.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, NOTE_PREFIX))


def filter_visit_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, VISIT_PREFIX))


def visit_records(**filters):
    """Signed assessment visits (``assessment.visit_reads.signed_visits``) with what the resource names loaded."""
    return (visit_reads.signed_visits(**filters).select_related("signed_by", "clinic", "patient")
            .prefetch_related("amendments").order_by("-visit_date", "-pk"))


def resources_for_patient(patient_ids, clinic) -> Iterator:
    yield from for_patients(sys.modules[__name__], patient_ids, clinic)
    yield from visit_records(clinic_id=clinic.pk, patient_id__in=list(patient_ids))


def get(resource_id: str, clinic):
    text = str(resource_id)
    if text.startswith(VISIT_PREFIX):
        return filter_visit_ids(visit_records(clinic_id=clinic.pk), [text]).first()
    return first_by_id(sys.modules[__name__], text, clinic)


def binary_id(record) -> str:
    """The id of the PDF as a FHIR Binary: the same as the DocumentReference's."""
    return document_id(record)


def _attachment(url: str, title: str, created) -> dict[str, Any]:
    return {"contentType": "application/pdf", "language": "en-US", "url": url, "title": title, "creation": created}


def to_resource(record, *, base_url: str | None = None) -> dict[str, Any]:
    url = f"{base_or_default(base_url)}/Binary/{binary_id(record)}"
    if is_visit(record):
        title = f"Assessment visit {record.visit_date.isoformat()}"
        kind, encounter = VISIT_TYPE, {"reference": f"Encounter/{record.public_id}"}
        when = record.visit_date
        signer = record.signed_by
    else:
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
        "docStatus": "amended" if record.amendments.all() else "final",  # prefetched
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
