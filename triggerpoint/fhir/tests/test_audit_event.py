"""The audit trail as FHIR AuditEvent (issue 18): who may read it, what it says, how it searches and pages,
and that reading it is itself audited.

Given the demo clinic (Riverside with its admin `admin.patel`, and Hillcrest), whose building wrote
thousands of audit events: the admin's client reads and searches Riverside's trail; every other role
is refused with an OperationOutcome; Hillcrest's events are never visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from triggerpoint.audit import services as audit_services
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff
from triggerpoint.fhir import auth, registry
from triggerpoint.fhir.mapping import audit_event
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db


def _ids(bundle):
    return [e["resource"]["id"] for e in bundle["entry"]]


def _next(bundle):
    found = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    return found[0].removeprefix("http://testserver") if found else None


def _outcome(response, status):
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"], body
    return body["issue"][0]["diagnostics"]


def _token(user):
    from triggerpoint.accounts.models import ApiToken

    return ApiToken.issue(user, "fhir test")[1]


@pytest.fixture
def admin(fhir_demo, token_for):
    return token_for(fhir_demo.staff["admin.patel"])


def _search(client, headers, **params):
    response = client.get("/fhir/R4/AuditEvent", params, **headers)
    assert response.status_code == 200, response.content[:400]
    return response.json()


def test_only_the_clinic_admin_reads_the_trail_and_every_other_role_gets_a_403_outcome(client, fhir_demo, token_for,
                                                                                        admin):
    event = AuditEvent.objects.filter(clinic=fhir_demo.clinics[0]).latest("pk")
    assert client.get(f"/fhir/R4/AuditEvent/{event.pk}", **admin).status_code == 200
    assert client.get("/fhir/R4/AuditEvent", **admin).status_code == 200
    for username in ("dr.rivera", "nurse.okafor", "desk.lopez", "analyst.kim", "dr.berg"):
        headers = token_for(fhir_demo.staff[username])
        assert "AuditEvent" in _outcome(client.get("/fhir/R4/AuditEvent", **headers), 403)
        _outcome(client.get(f"/fhir/R4/AuditEvent/{event.pk}", **headers), 403)
    portal = next(p for p in fhir_demo.patients if p.portal_user_id)
    client.force_login(portal.portal_user)
    _outcome(client.get("/fhir/R4/AuditEvent"), 403)
    client.logout()
    _outcome(client.get("/fhir/R4/AuditEvent"), 401)
    refusal = AuditEvent.objects.filter(action="audit.access.refused", object_type="fhir.auditevent").latest("pk")
    assert refusal.details["requested_action"] == "audit.view"


def test_another_clinics_events_are_never_visible(client, fhir_demo, token_for, admin):
    riverside, hillcrest = fhir_demo.clinics
    other_admin = token_for(make_staff("admin.hill", "clinic_admin", hillcrest))
    theirs = AuditEvent.objects.filter(clinic=hillcrest).latest("pk")
    _outcome(client.get(f"/fhir/R4/AuditEvent/{theirs.pk}", **admin), 404)
    ours = AuditEvent.objects.filter(clinic=riverside).latest("pk")
    _outcome(client.get(f"/fhir/R4/AuditEvent/{ours.pk}", **other_admin), 404)
    system_event = audit_services.record("audit.log.exported", details={"rows": 0})  # filed under no clinic
    _outcome(client.get(f"/fhir/R4/AuditEvent/{system_event.pk}", **admin), 404)
    bundle = _search(client, other_admin, _count=100)
    assert bundle["entry"]
    observers = {e["resource"]["source"]["observer"]["reference"] for e in bundle["entry"]}
    assert observers == {f"Organization/{hillcrest.public_id}"}
    assert not set(_ids(bundle)) & set(map(str, AuditEvent.objects.filter(clinic=riverside).values_list("pk", flat=True)))


def test_an_event_says_what_happened_who_did_it_where_and_to_whom(client, fhir_demo, admin):
    patient = richest_patient(fhir_demo)
    rivera = fhir_demo.staff["dr.rivera"]
    viewed = audit_services.record("patients.patient.viewed", obj=patient, actor=rivera, details={"via": "chart"})
    body = client.get(f"/fhir/R4/AuditEvent/{viewed.pk}", **admin).json()
    assert body["resourceType"] == "AuditEvent" and body["id"] == str(viewed.pk)
    assert body["type"]["system"] == audit_event.family_system() and body["type"]["code"] == "patients"
    assert {"system": audit_event.action_system(), "code": "patients.patient.viewed"} in body["subtype"]
    assert body["action"] == "R" and body["outcome"] == "0"
    assert body["recorded"] == viewed.at.astimezone(UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")
    agent = body["agent"][0]
    assert agent["requestor"] is True and agent["altId"] == "dr.rivera"
    assert agent["who"]["reference"] == f"Practitioner/{rivera.public_id}"
    assert agent["who"]["identifier"]["value"] == "dr.rivera" and agent["who"]["display"] == "Ana Rivera"
    assert body["source"]["observer"]["reference"] == f"Organization/{fhir_demo.clinics[0].public_id}"
    patient_entity = body["entity"][0]
    assert patient_entity["what"]["reference"] == f"Patient/{patient.public_id}"
    assert patient_entity["role"]["code"] == "1"
    assert '"via": "chart"' in body["entity"][1]["detail"][0]["valueString"]
    # the FHIR interface's own events are RESTful operations, with the interaction as subtype
    fhir_read = AuditEvent.objects.filter(clinic=fhir_demo.clinics[0], action="fhir.resource.read").latest("pk")
    rest = client.get(f"/fhir/R4/AuditEvent/{fhir_read.pk}", **admin).json()
    assert rest["type"]["code"] == "rest" and rest["type"]["system"] == audit_event.AUDIT_EVENT_TYPE
    assert rest["subtype"][0] == {"system": audit_event.RESTFUL, "code": "read", "display": "read"}
    # a refusal is a security alert with a failed outcome
    client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {_token(fhir_demo.staff['analyst.kim'])}")
    refused = AuditEvent.objects.filter(clinic=fhir_demo.clinics[0], action="audit.access.refused").latest("pk")
    alert = client.get(f"/fhir/R4/AuditEvent/{refused.pk}", **admin).json()
    assert alert["type"]["code"] == "110113" and alert["outcome"] == "4"


def test_searches_by_id_date_patient_agent_action_type_and_subtype(client, fhir_demo, admin):
    riverside = fhir_demo.clinics[0]
    patient = richest_patient(fhir_demo)
    rivera = fhir_demo.staff["dr.rivera"]
    mine = audit_services.record("patients.patient.viewed", obj=patient, actor=rivera)
    mine_id = str(mine.pk)
    today = riverside.today().isoformat()
    yesterday = (riverside.today() - timedelta(days=1)).isoformat()

    def found(**params):  # with `_id`, each parameter is tested on the one event (the trail is oldest first)
        return _ids(_search(client, admin, _id=mine_id, **params)) == [mine_id]

    assert found() and not _ids(_search(client, admin, _id=str(mine.pk + 10_000)))
    assert found(date=today) and found(date=f"ge{today}") and found(date=f"gt{yesterday}")
    assert not found(date=yesterday) and not found(date=f"lt{today}")
    assert found(patient=str(patient.public_id)) and found(patient=f"Patient/{patient.public_id}")
    other = next(p for p in fhir_demo.patients if p.clinic_id == riverside.pk and p.pk != patient.pk)
    assert not found(patient=str(other.public_id))
    assert found(agent="dr.rivera") and found(agent=f"Practitioner/{rivera.public_id}") and found(altid="dr.rivera")
    assert not found(agent="dr.chen") and not found(agent=f"Practitioner/{fhir_demo.staff['dr.chen'].public_id}")
    assert found(action="R") and found(action="C,R") and not found(action="U")
    assert found(type=f"{audit_event.family_system()}|patients") and found(type="patients")
    assert not found(type=f"{audit_event.AUDIT_EVENT_TYPE}|rest")
    assert found(subtype="patients") and found(subtype="patients.patient") and found(subtype="patients.patient.viewed")
    assert not found(subtype="patients.pat") and not found(subtype="procedures")
    combined = _search(client, admin, patient=str(patient.public_id), agent="dr.rivera", action="R", date=today,
                       subtype="patients.patient", _count=100)
    while mine_id not in _ids(combined) and _next(combined):
        combined = client.get(_next(combined), **admin).json()
    assert mine_id in _ids(combined)
    assert all(e["resource"]["agent"][0]["altId"] == "dr.rivera" for e in combined["entry"])
    # events stored under a legacy name (never written any more) are found under their current family
    assert audit_event.current_name("patient.viewed") == "patients.patient.viewed"
    assert "patient.viewed" in audit_event.actions_with(lambda n: audit_event.current_name(n).startswith("patients."))
    # a search of the FHIR interface's reads by interaction
    rest_reads = _search(client, admin, subtype=f"{audit_event.RESTFUL}|read", _count=5)
    assert all(e["resource"]["subtype"][0]["code"] == "read" for e in rest_reads["entry"])


def test_bad_search_values_are_400_outcomes_never_500(client, admin):
    for params in ({"action": "X"}, {"date": "yesterday"}, {"date": "2026-13-01"}, {"patient": "Encounter/abc"},
                   {"agent": "Patient/1"}, {"status": "final"}, {"_count": "-1"}, {"agent": "a b"}):
        _outcome(client.get("/fhir/R4/AuditEvent", params, **admin), 400)
    assert _search(client, admin, _id="not-a-number")["entry"] == []
    assert _search(client, admin, date="0001-01-01")["entry"] == []
    assert _search(client, admin, date="ge9999-12-31")["entry"] == []
    _outcome(client.get("/fhir/R4/AuditEvent/99999999999", **admin), 404)


def test_pages_oldest_first_without_counting_the_trail(client, fhir_demo, admin):
    """Oldest first: the trail only grows at its end (reading it writes to it), so a client paging through
    it, or syncing it with `date=ge<last day synced>`, never sees a page shift under it."""
    with CaptureQueriesContext(connection) as queries:
        first = _search(client, admin, _count=3)
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries), "the trail must not be counted"
    assert "total" not in first and len(first["entry"]) == 3
    second = client.get(_next(first), **admin).json()
    assert len(second["entry"]) == 3 and not set(_ids(first)) & set(_ids(second))
    assert any(link["relation"] == "previous" for link in second["link"])
    recorded = [e["resource"]["recorded"] for e in first["entry"] + second["entry"]]
    assert recorded == sorted(recorded)
    oldest = AuditEvent.objects.filter(clinic=fhir_demo.clinics[0]).order_by("at", "pk").first()
    assert _ids(first)[0] == str(oldest.pk)
    # the last page says how many there were
    mine = audit_services.record("patients.patient.viewed", obj=richest_patient(fhir_demo),
                                 actor=fhir_demo.staff["dr.chen"], details={"marker": "only"})
    last = _search(client, admin, _id=str(mine.pk), _count=5)
    assert last["total"] == 1 and _next(last) is None


def test_reading_the_trail_is_audited_once_and_each_listed_patient_as_the_log_page_does(client, fhir_demo, admin):
    admin_user = fhir_demo.staff["admin.patel"]
    patient = richest_patient(fhir_demo)
    audit_services.record("patients.patient.viewed", obj=patient, actor=fhir_demo.staff["dr.rivera"])
    before = AuditEvent.objects.latest("pk").pk
    bundle = _search(client, admin, patient=str(patient.public_id), _count=4)
    written = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    trail_reads = [e for e in written if e.action == "audit.log.read"]
    assert len(trail_reads) == 1 and trail_reads[0].actor == admin_user
    assert trail_reads[0].clinic == fhir_demo.clinics[0]
    assert trail_reads[0].details["interaction"] == "search-type" and trail_reads[0].details["parameters"] == ["patient"]
    assert trail_reads[0].details["results"] == len(bundle["entry"])
    listed = [e for e in written if e.action == "fhir.resource.searched"]
    assert [(e.patient_id, e.details["resource"]) for e in listed] == [(patient.pk, "AuditEvent")]
    assert not [e for e in written if e.action not in ("audit.log.read", "fhir.resource.searched",
                                                       "accounts.token.first_used")]
    # a read of an event naming no patient audits the read, and no patient
    unnamed = AuditEvent.objects.filter(clinic=fhir_demo.clinics[0], patient__isnull=True).latest("pk")
    before = AuditEvent.objects.latest("pk").pk
    assert client.get(f"/fhir/R4/AuditEvent/{unnamed.pk}", **admin).status_code == 200
    assert [(e.action, e.patient_id, e.details["id"]) for e in AuditEvent.objects.filter(pk__gt=before)] == [
        ("audit.log.read", None, str(unnamed.pk))]


@dataclass
class Grant:
    clinic: object
    scopes: tuple[str, ...]
    actor: object = None

    def allows(self, resource_type: str, interaction: str = "read") -> bool:
        return "system/*.read" in self.scopes or f"system/{resource_type}.read" in self.scopes


def test_smart_scopes_decide_and_everything_never_includes_the_trail(client, fhir_demo, monkeypatch):
    riverside = fhir_demo.clinics[0]
    grants = {"patient-only": Grant(riverside, ("system/Patient.read",), fhir_demo.staff["admin.patel"]),
              "audit": Grant(riverside, ("system/AuditEvent.read",), fhir_demo.staff["admin.patel"]),
              "all": Grant(riverside, ("system/*.read",), fhir_demo.staff["admin.patel"])}
    monkeypatch.setattr(auth, "SMART_AUTHENTICATE", grants.get)
    _outcome(client.get("/fhir/R4/AuditEvent", HTTP_AUTHORIZATION="Bearer patient-only"), 403)
    assert client.get("/fhir/R4/AuditEvent", HTTP_AUTHORIZATION="Bearer audit").status_code == 200
    assert client.get("/fhir/R4/AuditEvent", HTTP_AUTHORIZATION="Bearer all").status_code == 200
    assert registry.get("AuditEvent").patient_param is None
    patient = richest_patient(fhir_demo)
    assert AuditEvent.objects.filter(patient=patient).exists()
    url = f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100"
    kinds = set()
    while url:
        body = client.get(url, HTTP_AUTHORIZATION="Bearer all").json()
        kinds |= {e["resource"]["resourceType"] for e in body["entry"]}
        url = _next(body)
    assert "Patient" in kinds and not kinds & {"AuditEvent", "Practitioner", "Organization"}, kinds


def test_demo_audit_events_pass_the_independent_validators(client, fhir_demo, admin, fhir_validator):
    riverside = fhir_demo.clinics[0]
    audit_services.record("audit.log.exported", clinic=riverside, actor=fhir_demo.staff["admin.patel"])
    resources = []
    # one page of each kind of event, so every type, action and entity shape is checked
    for params in ({"_count": 100}, {"subtype": "fhir", "_count": 30}, {"subtype": "audit", "_count": 30},
                   {"subtype": "accounts", "_count": 30}, {"action": "C", "_count": 30}, {"action": "U", "_count": 30},
                   {"action": "D", "_count": 30}):
        resources += [e["resource"] for e in _search(client, admin, **params)["entry"]]
    kinds = {(r["type"]["code"], r["action"], r["outcome"]) for r in resources}
    assert len(kinds) >= 6, kinds
    assert any(len(r.get("entity", [])) == 2 for r in resources) and any(r["agent"][0]["requestor"] is False
                                                                 or "reference" in r["agent"][0]["who"] for r in resources)
    issues = fhir_validator.validate(resources)
    assert not fhir_validator.errors(issues), fhir_validator.explain(issues)
