"""Provenance: who signed (or amended) what, and when (US Core Provenance).

Registration: two sources, one row = one resource.

* signatures: ``records(**filters)`` (signed notes; ``PATIENT_FIELD`` ``patient_id``, ``CLINIC_FIELD``
  ``clinic_id``), ``filter_ids`` (id ``note-<procedure public id>``), ``filter_targets``;
* amendments: ``amendment_records(**filters)`` (``AMENDMENT_PATIENT_FIELD`` ``procedure__patient_id``,
  ``AMENDMENT_CLINIC_FIELD`` ``procedure__clinic_id``), ``filter_amendment_ids`` (id
  ``amend-<amendment public id>``), ``filter_amendment_targets``;
* visit signatures: ``visit_records(**filters)`` (signed assessment visits; ``patient_id``, ``clinic_id``),
  ``filter_visit_ids`` (id ``visit-<visit public id>``), ``filter_visit_targets``;
* ``to_resource(note, amendment or visit, *, base_url=None) -> dict``; ``patient_of``; ``get(id, clinic)``;
  ``resources_for_patient(patient_ids, clinic)`` (each note's signature then its amendments, then the
  visits' signatures);
* ``targets(record) -> list[str]`` - the ``Type/id`` references a Provenance targets; the
  ``filter_*targets(queryset, refs)`` functions answer ``_revinclude=Provenance:target`` (``refs`` are
  ``Type/id`` strings of the page).

The signature targets everything the signed note is the source of: the Procedure, its
DocumentReference (the PDF), its MedicationAdministrations and BodyStructures. ``recorded`` is
the signing time; the signer is the agent of type ``author`` (provenance-participant-type), acting
for the clinic (``onBehalfOf``, as US Core's constraint provenance-1 asks of a practitioner agent).
An amendment targets the Procedure and its DocumentReference with activity ``UPDATE``. A signed
assessment visit's signature targets its Encounter, its DocumentReference (the summary PDF) and the
Conditions (its diagnoses) signed with it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from triggerpoint.fhir.mapping import body_structure, document_reference, medication_administration
from triggerpoint.fhir.mapping import procedure as procedure_mapper
from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_PROVENANCE,
    condition_id,
    first_by_id,
    for_patients,
    instant,
    numbered_ids,
    organization_reference,
    practitioner_reference,
    prune,
    uuids,
)
from triggerpoint.procedures import selectors as procedure_selectors

AUTHOR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                      "code": "author", "display": "Author"}]}
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
SIGN_PREFIX, AMEND_PREFIX, VISIT_PREFIX = "note-", "amend-", "visit-"


def is_amendment(record) -> bool:
    return type(record).__name__ == "Amendment"


def is_visit(record) -> bool:
    return hasattr(record, "visit_date")


def provenance_id(record) -> str:
    prefix = AMEND_PREFIX if is_amendment(record) else VISIT_PREFIX if is_visit(record) else SIGN_PREFIX
    return prefix + str(record.public_id)


def targets(record) -> list[str]:
    if is_visit(record):
        return [f"Encounter/{record.public_id}", f"DocumentReference/{document_reference.VISIT_PREFIX}{record.public_id}",
                *(f"Condition/{condition_id(d)}" for d in record.diagnoses.all() if d.deleted_at is None)]
    if is_amendment(record):
        note = record.procedure
        return [f"Procedure/{note.public_id}", f"DocumentReference/note-{note.public_id}"]
    found = [f"Procedure/{record.public_id}", f"DocumentReference/note-{record.public_id}"]
    found += [f"MedicationAdministration/{medication_administration.administration_id(record, n)}"
              for n, _row in enumerate(medication_administration.ordered_injectates(record), start=1)]
    found += [f"BodyStructure/{body_structure.site_id(record, n)}"
              for n, _site in enumerate(body_structure.ordered_sites(record), start=1)]
    return found


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"
AMENDMENT_PATIENT_FIELD, AMENDMENT_CLINIC_FIELD = "procedure__patient_id", "procedure__clinic_id"
AMENDMENT_PATIENT_UUID_FIELD = "procedure__patient__public_id"


def records(**filters):
    return procedure_mapper.records(**filters)


def amendment_records(**filters):
    return (procedure_selectors.amendments(**filters)
            .select_related("author", "procedure__clinic", "procedure__patient")
            .prefetch_related("procedure__sites", "procedure__injectates").order_by("created_at", "pk"))


def visit_records(**filters):
    return document_reference.visit_records(**filters)


def filter_visit_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, VISIT_PREFIX))


def filter_visit_targets(queryset, refs):
    """Visits whose signature targets one of ``refs``: their Encounter, summary document or a diagnosis."""
    encounters, conditions = [], []
    for ref in refs:
        kind, _, rid = str(ref).partition("/")
        if kind == "Encounter":
            encounters += uuids([rid])
        elif kind == "DocumentReference":
            encounters += uuids([rid], document_reference.VISIT_PREFIX)
        elif kind == "Condition":
            conditions += uuids([rid])
    return queryset.filter(Q(public_id__in=encounters) | Q(diagnoses__public_id__in=conditions)).distinct()


def patient_of(record):
    return record.procedure.patient if is_amendment(record) else record.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, SIGN_PREFIX))


def filter_amendment_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids, AMEND_PREFIX))


def _target_notes(refs) -> list:
    """The note public ids that ``Type/id`` references point at (anything derived from a note counts)."""
    found = []
    for ref in refs:
        kind, _, rid = str(ref).partition("/")
        if kind == "Procedure":
            found += uuids([rid])
        elif kind == "DocumentReference":
            found += uuids([rid], document_reference.NOTE_PREFIX)
        elif kind == "MedicationAdministration":
            found += [key for key, _n in numbered_ids([rid], "-m")]
        elif kind == "BodyStructure":
            found += [key for key, _n in numbered_ids([rid], "-")]
    return found


def filter_targets(queryset, refs):
    return queryset.filter(public_id__in=_target_notes(refs))


def filter_amendment_targets(queryset, refs):
    notes = [r for r in refs if str(r).split("/", 1)[0] in ("Procedure", "DocumentReference")]
    return queryset.filter(procedure__public_id__in=_target_notes(notes))


def resources_for_patient(patient_ids, clinic) -> Iterator:
    notes = list(for_patients(sys.modules[__name__], patient_ids, clinic))
    by_note: dict = {}
    for amendment in amendment_records(procedure_id__in=[n.pk for n in notes]):
        by_note.setdefault(amendment.procedure_id, []).append(amendment)
    for note in notes:
        yield note
        yield from by_note.get(note.pk, [])
    yield from visit_records(clinic_id=clinic.pk, patient_id__in=list(patient_ids))


def get(resource_id: str, clinic):
    text = str(resource_id)
    if text.startswith(SIGN_PREFIX):
        return first_by_id(sys.modules[__name__], text, clinic)
    if text.startswith(VISIT_PREFIX):
        return filter_visit_ids(visit_records(clinic_id=clinic.pk), [text]).first()
    return filter_amendment_ids(amendment_records(procedure__clinic_id=clinic.pk), [text]).first()


def to_resource(record, *, base_url: str | None = None) -> dict[str, Any]:
    if is_visit(record):
        note, who, when = record, record.signed_by, record.signed_at
        activity = {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}],
                    "text": "Signed"}
        reason = []
    elif is_amendment(record):
        note, who, when = record.procedure, record.author, record.created_at
        activity = {"coding": [{"system": DATA_OPERATION, "code": "UPDATE", "display": "revise"}],
                    "text": "Amendment"}
        reason = [{"text": record.reason}]
    else:
        note, who, when = record, record.signed_by, record.signed_at
        activity = {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}],
                    "text": "Signed"}
        reason = []
    resource = {
        "resourceType": "Provenance",
        "id": provenance_id(record),
        "meta": {"profile": [PROFILE_PROVENANCE]},
        "target": [{"reference": ref} for ref in targets(record)],
        "recorded": instant(when),
        "reason": reason,
        "activity": activity,
        "agent": [{
            "type": AUTHOR,
            "who": practitioner_reference(who),
            "onBehalfOf": organization_reference(note.clinic),
        }],
    }
    return prune(resource)
