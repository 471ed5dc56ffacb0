"""Allergies → US Core AllergyIntolerance (6.1.0), including "no known drug allergies" once it is recorded.

Pure. Two kinds of record become this resource:

* an allergy row (free-text substance, reaction, severity): the substance is text only (we keep no
  code for it), clinical status `active`, verification `unconfirmed` — the clinic records what the
  patient reports and does not test it (HL7 allergyintolerance-verification: `confirmed` needs
  "clinical evidence including testing or rechallenge");
* the recorded answer "no known drug allergies" (`patients.AllergyStatus.NKDA`, the patient was asked
  and named none): SNOMED CT 409137002 "No known drug allergy", `active` and `confirmed` — the
  negation is a recorded answer, the way US Core's guidance codes "no known allergies". A patient
  never asked ("unknown") has no AllergyIntolerance at all: absence is not an answer.

Its id is `nkda-<patient id>` (there is one per patient, with no row of its own).
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.patient import last_updated

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-allergyintolerance"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
NKDA_ID_PREFIX = "nkda-"

# The data rule: which verification each kind of record carries, and why (see the module docstring).
RULES = {
    "reported_allergy": {"clinical": "active", "verification": "unconfirmed",
                         "basis": "patient-reported history, not tested by the clinic"},
    "no_known_drug_allergy": {"clinical": "active", "verification": "confirmed",
                              "basis": "the patient was asked and named none; recorded by staff"},
}
NKDA_CODE = {"system": "http://snomed.info/sct", "code": "409137002", "display": "No known drug allergy"}
SEVERITIES = {"mild", "moderate", "severe"}


def _status(rule: str) -> dict[str, Any]:
    values = RULES[rule]
    return {
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": values["clinical"]}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": values["verification"]}]},
    }


def _recorded(record: Any) -> str:
    return record.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def to_fhir(allergy: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": str(allergy.public_id),
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(allergy)},
        **_status("reported_allergy"),
        "code": {"text": allergy.substance},
        "patient": {"reference": f"Patient/{allergy.patient.public_id}"},
        "recordedDate": _recorded(allergy),
    }
    if allergy.reaction.strip():
        reaction: dict[str, Any] = {"manifestation": [{"text": allergy.reaction}]}
        if allergy.severity in SEVERITIES:
            reaction["severity"] = allergy.severity
        resource["reaction"] = [reaction]
    return resource


def nkda_to_fhir(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"{NKDA_ID_PREFIX}{patient.public_id}",
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(patient)},
        **_status("no_known_drug_allergy"),
        "code": {"coding": [NKDA_CODE], "text": "No known drug allergies"},
        "patient": {"reference": f"Patient/{patient.public_id}"},
    }
