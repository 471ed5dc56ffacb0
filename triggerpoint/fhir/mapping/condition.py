"""Assessment diagnoses → US Core Condition Encounter Diagnosis (6.1.0), ICD-10-CM.

Pure: reads the diagnosis row, its visit and the visit's amendments (loaded by the selector). A
diagnosis is served from signed visits only. Its encounter is the visit (`Encounter/<visit id>`,
see `encounter`). An amendment that took the code off the visit makes it `entered-in-error`
(the signed row stays, as the record does). `verificationStatus` is `confirmed`: the physician
signed it as the visit's diagnosis. Clinical status is left out: an encounter diagnosis records
what was found at the visit, and we do not track when a condition resolves.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.patient import last_updated

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-encounter-diagnosis"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def to_fhir(diagnosis: Any, amended_codes: set[str] | None = None) -> dict[str, Any]:
    """`amended_codes`: the visit's codes after its amendments, None when no amendment changed them."""
    visit = diagnosis.visit
    withdrawn = amended_codes is not None and diagnosis.code not in amended_codes
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(diagnosis.public_id),
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(diagnosis)},
        "verificationStatus": {"coding": [{"system": VERIFICATION,
                                           "code": "entered-in-error" if withdrawn else "confirmed"}]},
        "category": [CATEGORY],
        "code": {"coding": [{"system": ICD10CM, "code": diagnosis.code, "display": diagnosis.description}],
                 "text": diagnosis.description},
        "subject": {"reference": f"Patient/{visit.patient.public_id}"},
        "encounter": {"reference": f"Encounter/{visit.public_id}"},
    }
    if visit.signed_at:
        resource["recordedDate"] = visit.signed_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    return resource
