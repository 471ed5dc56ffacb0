"""The CapabilityStatement (`GET /fhir/R4/metadata`), generated from the registry: it claims what is served.

Each registered type lists its interactions (read, search-type), its search parameters, the US Core
SHALL combinations it serves and its profile. The statement `instantiates` the US Core 6.1.0 server
CapabilityStatement only when the registry serves what that requires at minimum: the US Core
Patient profile with its required searches, plus at least one more US Core profile. The Bulk Data
export operations (system, Patient, Group) are declared with their OperationDefinitions and the
statement instantiates Bulk Data 2.0. Security says
how to authenticate: our bearer tokens or a session, and SMART Backend Services.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir import auth, definitions, registry

US_CORE_SERVER = "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server|6.1.0"
# FHIR Bulk Data Access 2.0 (`bulk_views`): the system, Patient and Group $export operations.
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data|2.0.0"
BULK_OPERATION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
EXPORT_SYSTEM = ("export", BULK_OPERATION + "export")
EXPORT_BY_TYPE = {"Patient": ("export", BULK_OPERATION + "patient-export"),
                  "Group": ("export", BULK_OPERATION + "group-export")}
PATIENT_REQUIRED = {"_id", "identifier", "name", "birthdate", "gender"}
COMBINATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"
EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
RELEASE_DATE = "2026-12-06"


def claims_us_core() -> bool:
    types = registry.all_types()
    patient = registry.get("Patient")
    if patient is None or patient.profile is None:
        return False
    if not PATIENT_REQUIRED <= {p.name for p in patient.search_params}:
        return False
    return any(t.name != "Patient" and t.profile and t.profile.startswith(registry.US_CORE) for t in types)


def _resource(resource: registry.ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": resource.name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "searchParam": [
            {k: v for k, v in {"name": p.name, "definition": p.definition, "type": p.type,
                               "documentation": p.documentation or None}.items() if v}
            for p in resource.search_params
        ],
    }
    if resource.profile:
        entry["supportedProfile"] = [resource.profile]
    combos = [c for c in resource.combinations if len(c) > 1]
    if combos:
        entry["extension"] = [
            {"url": COMBINATION, "extension": [
                {"url": EXPECTATION, "valueCode": "SHALL"},
                *({"url": "required", "valueString": name} for name in combo),
            ]}
            for combo in combos
        ]
    provenance = registry.get("Provenance")
    if provenance is not None and provenance.param("target") is not None and resource.name != "Provenance":
        entry["searchRevInclude"] = ["Provenance:target"]
    operations = [*resource.operations, *([EXPORT_BY_TYPE[resource.name]] if resource.name in EXPORT_BY_TYPE else [])]
    if operations:
        entry["operation"] = [{"name": name, "definition": url} for name, url in operations]
    return entry


# The types whose attachments are `Binary` reads (`fhir/binary.py`, which `views` cannot be imported
# from here to ask): Binary is declared, read only, when one of them is served.
BINARY_OWNERS = ("Consent", "DocumentReference")


def _binary() -> list[dict[str, Any]]:
    if not any(registry.get(name) for name in BINARY_OWNERS):
        return []
    return [{
        "type": "Binary",
        "interaction": [{"code": "read"}],
        "versioning": "no-version",
        "readHistory": False,
        "documentation": "The PDFs a DocumentReference (content.attachment.url) or a Consent (sourceAttachment.url) "
                         "points at: read with the authorization that reads that resource. Accept application/pdf "
                         "for the document, application/fhir+json for the Binary resource. No search.",
    }]


def capability_statement(base: str) -> dict[str, Any]:
    security: dict[str, Any] = {
        "cors": False,
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                 "code": "SMART-on-FHIR"}],
                     "text": "Bearer tokens: SMART Backend Services (client_credentials with a signed JWT), or "
                             "a clinic API token"}],
        "description": "Send `Authorization: Bearer <token>`. A clinic API token acts as its user with the "
                       "clinic's role policy; a SMART Backend Services token is limited to its system/*.read "
                       "scopes. A browser session that passed the second factor works too.",
    }
    if auth.SMART_TOKEN_URL:
        security["extension"] = [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "token", "valueUri": auth.SMART_TOKEN_URL()}],
        }]
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "id": "triggerpoint",
        "url": f"{base}metadata",
        "name": "TriggerPointClinicFhirServer",
        "title": "Trigger Point Clinic FHIR R4 server",
        "status": "active",
        "experimental": False,
        "date": RELEASE_DATE,
        "publisher": "Trigger Point Clinic",
        "description": "Read and search access to the clinic's records as FHIR R4 resources (US Core 6.1.0 "
                       "profiles where one exists).",
        "kind": "instance",
        "software": {"name": "Trigger Point Clinic"},
        "implementation": {"description": "Trigger Point Clinic FHIR R4", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "security": security,
            # the registry's patient records, then what is served beside it (`definitions`, `Binary`)
            "resource": [*(_resource(r) for r in registry.all_types()), definitions.capability_entry(), *_binary()],
            # POST [base] with a transaction Bundle imports one patient from the EHR (fhir/importing/).
            "interaction": [{"code": "transaction", "documentation": "Import one patient (Patient, "
                             "AllergyIntolerance, MedicationRequest/Statement, Condition, body-weight Observation); "
                             "all or nothing; staff API tokens only."}],
            "operation": [{"name": EXPORT_SYSTEM[0], "definition": EXPORT_SYSTEM[1]}],
        }],
    }
    statement["instantiates"] = [US_CORE_SERVER, BULK_DATA] if claims_us_core() else [BULK_DATA]
    return statement
