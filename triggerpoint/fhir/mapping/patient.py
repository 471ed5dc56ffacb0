"""Patient → US Core Patient (6.1.0): MRN with the clinic's system, name, gender, birth date, telecom, language.

Pure: reads only the patient and its (already loaded) clinic. The MRN's system is the clinic's own
URI, `urn:uuid:<clinic public id>`: MRNs are unique per clinic only, the clinic's public id never
changes (its name, slug and our host name may), and the identifier's `assigner` names the clinic.
"""

from __future__ import annotations

from typing import Any

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
MR_TYPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                "display": "Medical record number"}],
    "text": "MRN",
}
# BCP-47 tags of the languages the clinic offers (patients.Language), with their English names.
LANGUAGES = {"en": "English", "es": "Spanish"}
GENDERS = {"female", "male", "other", "unknown"}  # administrative-gender; patients.Sex uses the same codes


def mrn_system(clinic: Any) -> str:
    return f"urn:uuid:{clinic.public_id}"


def last_updated(record: Any) -> str:
    return record.updated_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def to_fhir(patient: Any) -> dict[str, Any]:
    clinic = patient.clinic
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(patient)},
        "identifier": [{
            "use": "usual", "type": MR_TYPE, "system": mrn_system(clinic), "value": patient.mrn,
            "assigner": {"display": clinic.name},
        }],
        "active": True,
        "name": [{"use": "official", "text": f"{patient.given_name} {patient.family_name}".strip(),
                  "family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.sex if patient.sex in GENDERS else "unknown",
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address.strip():
        resource["address"] = [{"text": " ".join(patient.address.split())}]
    if getattr(patient, "merged_into_id", None):
        # Merged into another chart (issue 17): not active, and replaced by the surviving chart, whose
        # `Patient/{id}/$everything` and `patient=` searches hold this chart's records.
        resource["active"] = False
        resource["link"] = [{"other": {"reference": f"Patient/{patient.merged_into.public_id}"}, "type": "replaced-by"}]
    language = patient.preferred_language
    if language in LANGUAGES:
        resource["communication"] = [{
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language, "display": LANGUAGES[language]}],
                         "text": LANGUAGES[language]},
            "preferred": True,
        }]
    return resource
