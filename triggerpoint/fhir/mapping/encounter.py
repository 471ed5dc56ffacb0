"""Assessment visits and procedure visits → US Core Encounter (6.1.0).

Pure: reads the signed visit or note with its clinician, patient and clinic loaded. The Encounter's
id is the record's own public id (`Encounter/<visit id>` or `Encounter/<procedure note id>`), so a
Procedure or Condition refers to its encounter without a lookup. Both are ambulatory
(v3-ActCode AMB) and finished (only signed records are served). The type is text: no
verified code for "trigger point assessment visit" is in our catalogues yet (US Core's binding is
extensible, so text is allowed).
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.clinical_common import organization_reference, practitioner_reference
from triggerpoint.fhir.mapping.patient import last_updated

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"
AMBULATORY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"}
PERFORMER = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PPRF",
                         "display": "primary performer"}]}
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
TYPES = {
    "assessment": "Trigger point assessment visit",
    "procedure": "Trigger point injection / dry needling procedure visit",
}


def _person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _encounter(record: Any, kind: str, clinician: Any, start: str, end: str | None) -> dict[str, Any]:
    patient = record.patient
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(record.public_id),
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(record)},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{record.public_id}"}],
        "status": "finished",
        "class": AMBULATORY,
        "type": [{"text": TYPES[kind]}],
        "subject": {"reference": f"Patient/{patient.public_id}"},
        "period": {"start": start, **({"end": end} if end else {})},
        "serviceProvider": organization_reference(patient.clinic),
    }
    if _person(clinician):
        resource["participant"] = [{"type": [PERFORMER], "individual": practitioner_reference(clinician)}]
    return resource


def visit_to_fhir(visit: Any) -> dict[str, Any]:
    day = visit.visit_date.isoformat()
    resource = _encounter(visit, "assessment", visit.clinician, day, day)
    diagnoses = sorted(visit.diagnoses.all(), key=lambda d: (not d.is_primary, d.code))
    if diagnoses:
        resource["diagnosis"] = [
            {"condition": {"reference": f"Condition/{d.public_id}", "display": d.description}, "rank": rank}
            for rank, d in enumerate(diagnoses, start=1)
        ]
    return resource


def procedure_to_fhir(note: Any) -> dict[str, Any]:
    if note.performed_at:
        start = note.performed_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        end = None
    else:
        start = end = note.procedure_date.isoformat()
    resource = _encounter(note, "procedure", note.performed_by, start, end)
    codes = [c for c in (note.diagnosis_codes or []) if isinstance(c, str) and c]
    if codes:
        resource["reasonCode"] = [{"coding": [{"system": ICD10CM, "code": code}]} for code in codes]
    return resource
