"""Provenance: who signed (or amended) what, and when (US Core Provenance).

Registration:

* ``to_resource(record, *, base_url: str) -> dict`` - ``record`` is a signed ``procedures.Procedure``
  (id ``note-<procedure public id>``: the signature) or a ``procedures.Amendment`` (id
  ``amend-<amendment public id>``);
* ``get(resource_id: str, clinic) -> Procedure | Amendment | None``;
* ``resources_for_patient(patient_ids, clinic) -> iterator`` - each signed note's signature, then
  its amendments;
* ``targets(record) -> list[str]`` - the ``Type/id`` references a Provenance targets, for
  ``_revinclude=Provenance:target``.

The signature targets everything the signed note is the source of: the Procedure, its
DocumentReference (the PDF), its MedicationAdministrations and BodyStructures. ``recorded`` is
the signing time; the signer is the agent of type ``author`` (provenance-participant-type), acting
for the clinic (``onBehalfOf``, as US Core's constraint provenance-1 asks of a practitioner agent).
An amendment targets the Procedure and its DocumentReference with activity ``UPDATE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triggerpoint.fhir.mapping import body_structure, medication_administration
from triggerpoint.fhir.mapping import procedure as procedure_mapper
from triggerpoint.fhir.mapping.clinical_common import (
    PROFILE_PROVENANCE,
    instant,
    organization_reference,
    parse_uuid,
    practitioner_reference,
    prune,
)
from triggerpoint.procedures import selectors as procedure_selectors

AUTHOR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                      "code": "author", "display": "Author"}]}
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
SIGN_PREFIX, AMEND_PREFIX = "note-", "amend-"


def is_amendment(record) -> bool:
    return hasattr(record, "reason") and hasattr(record, "procedure_id") and not hasattr(record, "procedure_date")


def provenance_id(record) -> str:
    return (AMEND_PREFIX if is_amendment(record) else SIGN_PREFIX) + str(record.public_id)


def targets(record) -> list[str]:
    if is_amendment(record):
        note = record.procedure
        return [f"Procedure/{note.public_id}", f"DocumentReference/note-{note.public_id}"]
    found = [f"Procedure/{record.public_id}", f"DocumentReference/note-{record.public_id}"]
    found += [f"MedicationAdministration/{medication_administration.administration_id(record, n)}"
              for n, _row in enumerate(medication_administration.ordered_injectates(record), start=1)]
    found += [f"BodyStructure/{body_structure.site_id(record, n)}"
              for n, _site in enumerate(body_structure.ordered_sites(record), start=1)]
    return found


def resources_for_patient(patient_ids, clinic) -> Iterator:
    for note in procedure_mapper.resources_for_patient(patient_ids, clinic).prefetch_related("amendments__author"):
        yield note
        yield from note.amendments.all()


def get(resource_id: str, clinic):
    text = str(resource_id)
    if text.startswith(SIGN_PREFIX):
        return procedure_mapper.get(text.removeprefix(SIGN_PREFIX), clinic)
    if text.startswith(AMEND_PREFIX):
        key = parse_uuid(text.removeprefix(AMEND_PREFIX))
        if key is None:
            return None
        note = (procedure_selectors.signed_procedures(amendments__public_id=key, clinic=clinic)
                .select_related(*procedure_mapper.RELATED).prefetch_related(*procedure_mapper.PREFETCH).first())
        return next((a for a in note.amendments.all() if a.public_id == key), None) if note else None
    return None


def to_resource(record, *, base_url: str) -> dict[str, Any]:
    if is_amendment(record):
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
