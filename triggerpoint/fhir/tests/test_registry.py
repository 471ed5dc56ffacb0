"""Registering a resource type is a few lines, and everything follows from the registry.

A stand-in Provenance (one per patient, "who registered this chart") is registered the way
h-fclin's will be: the CapabilityStatement lists it and offers `_revinclude=Provenance:target`,
searches of other types include it, `$everything` returns it, and the policy and audit apply.
"""

from __future__ import annotations

import pytest

from triggerpoint.fhir import registry
from triggerpoint.fhir.params import Ref
from triggerpoint.fhir.registry import ResourceType, SearchParam, Source, by_uuid
from triggerpoint.fhir.tests.conftest import richest_patient
from triggerpoint.patients import selectors as patients

pytestmark = pytest.mark.django_db


def _provenance(patient):
    return {"resourceType": "Provenance", "id": f"reg-{patient.public_id}",
            "target": [{"reference": f"Patient/{patient.public_id}"}],
            "recorded": patient.created_at.isoformat(),
            "agent": [{"who": {"display": "registration desk"}}]}


def _targets(queryset, values):
    return queryset.filter(public_id__in=[v.id for v in values if isinstance(v, Ref) and v.type == "Patient"])


STAND_IN = ResourceType(
    name="Provenance", action="patient.view_clinical",
    search_params=(SearchParam("target", "reference", None, "What it is about.", target="Patient"),
                   SearchParam("patient", "reference", None, "The patient.", target="Patient")),
    sources=(Source(
        records=lambda scope: patients.patients(**scope.lookup("pk")),
        to_resource=_provenance, patient_of=lambda p: p,
        filters={"_id": by_uuid("public_id", prefix="reg-"), "target": _targets, "patient": by_uuid("public_id")},
    ),),
)


@pytest.fixture
def with_provenance(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "Provenance", STAND_IN)


def test_a_registered_type_appears_in_the_statement_with_revinclude(client, with_provenance):
    statement = client.get("/fhir/R4/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "Provenance" in resources
    assert resources["Patient"]["searchRevInclude"] == ["Provenance:target"]
    assert "searchRevInclude" not in resources["Provenance"]


def test_without_provenance_no_revinclude_is_offered(client, monkeypatch):
    monkeypatch.delitem(registry._REGISTRY, "Provenance", raising=False)
    statement = client.get("/fhir/R4/metadata").json()
    assert all("searchRevInclude" not in r for r in statement["rest"][0]["resource"])


def test_revinclude_adds_the_provenance_of_the_page(client, fhir_demo, token_for, with_provenance):
    patient = richest_patient(fhir_demo)
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = client.get(f"/fhir/R4/Patient?_id={patient.public_id}&_revinclude=Provenance:target", **headers).json()
    assert [(e["resource"]["resourceType"], e["search"]["mode"]) for e in body["entry"]] == [
        ("Patient", "match"), ("Provenance", "include")]
    assert body["total"] == 1  # included resources are not counted
    desk = token_for(fhir_demo.staff["desk.lopez"])  # may read Patient, not Provenance: nothing included
    body = client.get(f"/fhir/R4/Patient?_id={patient.public_id}&_revinclude=Provenance:target", **desk).json()
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient"]


def test_everything_and_read_reach_a_newly_registered_type(client, fhir_demo, token_for, with_provenance):
    patient = richest_patient(fhir_demo)
    headers = token_for(fhir_demo.staff["dr.rivera"])
    ids, url = [], f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100"
    while url:  # the richest chart runs to more than one page
        body = client.get(url, **headers).json()
        ids += [e["resource"]["id"] for e in body["entry"]]
        more = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = more[0].removeprefix("http://testserver") if more else None
    assert f"reg-{patient.public_id}" in ids
    read = client.get(f"/fhir/R4/Provenance/reg-{patient.public_id}", **headers)
    assert read.status_code == 200 and read.json()["target"][0]["reference"] == f"Patient/{patient.public_id}"


def test_a_source_without_an_id_filter_is_refused_at_registration():
    broken = Source(records=lambda scope: None, to_resource=dict, patient_of=lambda r: r, filters={})
    with pytest.raises(ValueError, match="_id"):
        registry.register(ResourceType(name="RiskAssessment", action="patient.view", sources=(broken,),
                                       search_params=()))
    assert registry.get("RiskAssessment") is None  # a type nobody serves (Flag is served now)
