"""The CapabilityStatement matches what is served: a walk calls every declared search on the demo clinic.

For each resource type the statement lists, a real resource of the demo's richest patient is read,
a value for each declared search parameter is taken from it (`VALUES`), and the search must find
that resource — alone, and in every combination the statement declares. A newly registered
parameter without a way to take its value from a resource fails here until one is added.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from triggerpoint.fhir import capability, registry
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db

COMBINATION = capability.COMBINATION


def _reference_to(resource: dict, target: str) -> str | None:
    """The first `Reference.reference` in the resource that names a `target`."""
    stack = [resource]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref.startswith(f"{target}/"):
                return ref
            stack.extend(v for k, v in node.items() if k != "reference")
        elif isinstance(node, list):
            stack.extend(node)
    return None


# (resource type, parameter) -> the search value that must find this resource.
VALUES = {
    ("Patient", "identifier"): lambda r: f"{r['identifier'][0]['system']}|{r['identifier'][0]['value']}",
    ("Patient", "name"): lambda r: r["name"][0]["family"][:3],
    ("Patient", "birthdate"): lambda r: r["birthDate"],
    ("Patient", "gender"): lambda r: r["gender"],
    ("AllergyIntolerance", "clinical-status"): lambda r: r["clinicalStatus"]["coding"][0]["code"],
    ("Condition", "category"): lambda r: r["category"][0]["coding"][0]["code"],
    ("Encounter", "date"): lambda r: "ge" + r["period"]["start"][:10],
    ("Encounter", "status"): lambda r: r["status"],
    ("Procedure", "date"): lambda r: "eq" + r["performedDateTime"][:10],
    ("Observation", "category"): lambda r: r["category"][0]["coding"][0]["code"],
    ("Observation", "code"): lambda r: f"{r['code']['coding'][0]['system']}|{r['code']['coding'][0]['code']}",
    ("Observation", "date"): lambda r: r["effectiveDateTime"][:10],
    ("Group", "name"): lambda r: r["name"][:4],
    ("Group", "member"): lambda r: r["member"][0]["entity"]["reference"],
    ("Provenance", "target"): lambda r: r["target"][-1]["reference"],
    ("Practitioner", "identifier"): lambda r: f"{r['identifier'][0]['system']}|{r['identifier'][0]['value']}",
    ("Practitioner", "name"): lambda r: r["name"][0]["family"][:3],
    ("Organization", "name"): lambda r: r["name"][:4],
    # the trail's day is the clinic's: a day before the UTC instant's date is surely at or before it
    ("AuditEvent", "date"): lambda r: "ge" + (date.fromisoformat(r["recorded"][:10]) - timedelta(days=1)).isoformat(),
    ("AuditEvent", "agent"): lambda r: r["agent"][0]["who"].get("reference") or r["agent"][0]["altId"],
    ("AuditEvent", "altid"): lambda r: r["agent"][0]["altId"],
    ("AuditEvent", "action"): lambda r: r["action"],
    ("AuditEvent", "type"): lambda r: f"{r['type']['system']}|{r['type']['code']}",
    ("AuditEvent", "subtype"): lambda r: r["subtype"][-1]["code"],
    ("QuestionnaireResponse", "authored"): lambda r: r["authored"][:10],
    ("QuestionnaireResponse", "questionnaire"): lambda r: r["questionnaire"].split("|")[0],
    ("QuestionnaireResponse", "status"): lambda r: r["status"],
    ("Flag", "status"): lambda r: r["status"],
    ("Questionnaire", "url"): lambda r: f"{r['url']}|{r['version']}",
    ("DocumentReference", "category"): lambda r: r["category"][0]["coding"][0]["code"],
    ("DocumentReference", "type"): lambda r: f"{r['type']['coding'][0]['system']}|{r['type']['coding'][0]['code']}",
    ("DocumentReference", "date"): lambda r: r["date"][:10],
    ("DocumentReference", "status"): lambda r: r["status"],
    ("CarePlan", "category"): lambda r: r["category"][0]["coding"][0]["code"],
}
# Types read by the clinic admin only (the others by a physician).
ADMIN_ONLY = {"AuditEvent"}
# Types whose `patient` is the patient of what they target, named nowhere in the resource itself.
PATIENT_NOT_NAMED = {"Provenance"}
# Types the demo has for a few patients only (2 signed consents): walked on a patient who has one.


def _value(resource_type: str, param: dict, resource: dict, patient) -> str:
    if param["name"] == "_id":
        return resource["id"]
    take = VALUES.get((resource_type, param["name"]))
    if param["name"] == "patient" and resource_type in PATIENT_NOT_NAMED:
        return f"Patient/{patient.public_id}"
    if take is None and param["type"] == "reference":
        found = _reference_to(resource, "Patient" if param["name"] == "patient" else param["name"].capitalize())
        assert found, f"{resource_type}.{param['name']}: the resource names no such reference"
        return found
    assert take is not None, f"add to VALUES how to take {resource_type}.{param['name']} from a resource"
    return take(resource)


def test_the_statement_is_valid_r4_and_claims_us_core_for_what_is_registered(client):
    body = client.get("/fhir/R4/metadata").json()
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    assert body["instantiates"] == ["http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server|6.1.0",
                                    capability.BULK_DATA]
    served = [r["type"] for r in body["rest"][0]["resource"]]
    # the registry's types, then what is served beside it: the definitions, and Binary (the PDFs, read only)
    assert served == [r.name for r in registry.all_types()] + ["Questionnaire", "Binary"]
    binary = next(r for r in body["rest"][0]["resource"] if r["type"] == "Binary")
    assert binary["interaction"] == [{"code": "read"}] and "searchParam" not in binary
    assert {"Patient", "AllergyIntolerance", "Condition", "Encounter"} <= set(served)
    security = body["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    patient = next(r for r in body["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["supportedProfile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
    assert {p["name"] for p in patient["searchParam"]} >= {"_id", "identifier", "name", "birthdate", "gender"}
    assert patient["operation"][0]["name"] == "everything"


def test_without_the_patient_searches_us_core_is_not_claimed(monkeypatch):
    patient = registry.get("Patient")
    monkeypatch.setitem(registry._REGISTRY, "Patient",
                        registry.ResourceType(**{**patient.__dict__, "search_params": patient.search_params[:1]}))
    assert capability.US_CORE_SERVER not in capability.capability_statement("http://x/fhir/R4/")["instantiates"]
    monkeypatch.setitem(registry._REGISTRY, "Patient", patient)
    assert capability.US_CORE_SERVER in capability.capability_statement("http://x/fhir/R4/")["instantiates"]


def _next(bundle: dict) -> str | None:
    found = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    return found[0].removeprefix("http://testserver") if found else None


def _resources_of(client, headers, kind: str, richest):
    """The richest patient's resources of `kind`; when they have none (a triage alert is rare), those of the
    first patient who has one, and that patient."""
    param_name = "_id" if kind == "Patient" else "patient"
    listing = client.get(f"/fhir/R4/{kind}", {param_name: str(richest.public_id), "_count": 100}, **headers)
    assert listing.status_code == 200, listing.content[:300]
    resources = [e["resource"] for e in listing.json()["entry"]]
    if resources or kind in PATIENT_NOT_NAMED:
        assert resources, f"the demo's richest patient has no {kind}: the walk would prove nothing"
        return resources, richest
    anyone = client.get(f"/fhir/R4/{kind}", {"_count": 1}, **headers).json()["entry"]
    assert anyone, f"the demo has no {kind}: the walk would prove nothing"
    owner = _reference_to(anyone[0]["resource"], "Patient").split("/")[1]
    other = type(richest).objects.get(public_id=owner)
    listing = client.get(f"/fhir/R4/{kind}", {"patient": owner, "_count": 100}, **headers)
    return [e["resource"] for e in listing.json()["entry"]], other


def test_every_declared_search_and_combination_finds_a_real_resource(client, fhir_demo, token_for):
    physician = token_for(fhir_demo.staff["dr.rivera"])
    admin = token_for(fhir_demo.staff["admin.patel"])
    richest = patient = richest_patient(fhir_demo)  # `patient`: whose resources the walk takes
    statement = client.get("/fhir/R4/metadata").json()
    calls = 0
    for declared in statement["rest"][0]["resource"]:
        kind = declared["type"]
        if {"code": "search-type"} not in declared["interaction"]:
            continue  # Binary: read only (test_documents_plans_consents follows the attachments)
        headers = admin if kind in ADMIN_ONLY else physician
        declared_names = {p["name"] for p in declared["searchParam"]}
        if kind == "Group":  # the groups the richest patient is in (an empty group has no member to search by)
            listing = client.get("/fhir/R4/Group", {"member": str(richest.public_id), "_count": 100}, **headers)
            assert listing.status_code == 200, listing.content[:300]
            resources, patient = [e["resource"] for e in listing.json()["entry"]], richest
            assert resources, "the demo's richest patient is in no Group: the walk would prove nothing"
        elif registry.get(kind) is None or (kind != "Patient" and "patient" not in declared_names):
            # a definition served beside the registry (Questionnaire), or nobody's record (Practitioner,
            # Organization): the clinic's
            listing = client.get(f"/fhir/R4/{kind}", {"_count": 100}, **headers)
            assert listing.status_code == 200, listing.content[:300]
            resources, patient = [e["resource"] for e in listing.json()["entry"]], richest
            assert resources, f"no {kind} is served: the walk would prove nothing"
        else:
            resources, patient = _resources_of(client, headers, kind, richest)
        for resource in resources[:3]:
            params = {p["name"]: p for p in declared["searchParam"]}
            values = {name: _value(kind, p, resource, patient) for name, p in params.items()}
            combos = [(name,) for name in params]
            combos += [tuple(x["valueString"] for x in ext["extension"] if x["url"] == "required")
                       for ext in declared.get("extension", []) if ext["url"] == COMBINATION]
            for combo in combos:
                query = {name: values[name] for name in combo}
                response = client.get(f"/fhir/R4/{kind}", {**query, "_count": 100}, **headers)
                calls += 1
                assert response.status_code == 200, (kind, query, response.content[:300])
                bundle = response.json()
                ids = [e["resource"]["id"] for e in bundle["entry"]]
                total = bundle.get("total")  # an uncounted type (AuditEvent) gives it on its last page only
                while resource["id"] not in ids and (more := _next(bundle)):  # a wide search (category alone) pages
                    bundle = client.get(more, **headers).json()
                    ids += [e["resource"]["id"] for e in bundle["entry"]]
                assert resource["id"] in ids, (kind, query, "did not find the resource it was taken from")
                assert total is None or total >= len(ids)
    assert calls >= 20
