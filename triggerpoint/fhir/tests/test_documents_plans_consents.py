"""DocumentReference, CarePlan and Consent on /fhir/R4/, and the PDFs they point at (`Binary`).

Given the demo clinic (Riverside: signed notes, assessment visits, aftercare plans, two signed
consents; Hillcrest: its own), a Riverside physician's token, another clinic's, the front desk's,
SMART grants; each test states what one of them gets. Also: a page of BodyStructure or
MedicationAdministration costs the same queries however many sites and injectates its notes have.
"""

from __future__ import annotations

import base64
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from triggerpoint.fhir import auth, binary, capability
from triggerpoint.fhir.mapping import body_structure, medication_administration
from triggerpoint.fhir.tests.conftest import ids_of, outcome_of, richest_patient

pytestmark = pytest.mark.django_db

TYPES = ("DocumentReference", "CarePlan", "Consent")
LOINC = "http://loinc.org"


def _riverside(demo):
    return [p for p in demo.patients if p.clinic_id == demo.clinics[0].pk]




def _all(client, url, headers):
    """Every resource of a search, following `next`."""
    found = []
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:300]
        bundle = response.json()
        found += [e["resource"] for e in bundle["entry"]]
        more = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = more[0].removeprefix("http://testserver") if more else None
    return found


def _local(url: str) -> str:
    """An absolute url the server handed out, as the test client's path (the host is SITE_URL's)."""
    return url[url.index("/fhir/R4/"):]


def _consent_patient(demo):
    from triggerpoint.screening.selectors import signed_consents

    consent = signed_consents(clinic_id=demo.clinics[0].pk).first()
    assert consent is not None, "the demo clinic has no signed consent"
    return consent.patient


# ------------------------------------------------------------------ the demo has them
def test_the_demo_clinic_serves_notes_visits_plans_and_consents(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    documents = _all(client, "/fhir/R4/DocumentReference?_count=100", headers)
    kinds = {d["type"]["coding"][0]["code"] for d in documents}
    assert kinds == {"28570-0", "11488-4"}, kinds  # procedure notes and assessment visits
    assert {d["id"].split("-", 1)[0] for d in documents} == {"note", "visit"}
    assert len(_all(client, "/fhir/R4/CarePlan?_count=100", headers)) >= 10
    consents = _all(client, "/fhir/R4/Consent?_count=100", headers)
    assert len(consents) == 2 and all(c["status"] == "active" for c in consents)
    hillcrest = token_for(fhir_demo.staff["dr.berg"])  # each clinic only its own
    theirs = {d["id"] for d in _all(client, "/fhir/R4/DocumentReference?_count=100", hillcrest)}
    assert theirs and not theirs & {d["id"] for d in documents}
    assert _all(client, "/fhir/R4/Consent", hillcrest) == []


# ------------------------------------------------------------------ read and search
def test_document_references_by_patient_category_type_date_status_and_id(client, fhir_demo, token_for):
    from triggerpoint.assessment.visit_reads import signed_visits
    from triggerpoint.procedures.selectors import signed_procedures

    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = richest_patient(fhir_demo)
    notes = list(signed_procedures(patient=patient))
    visits = list(signed_visits(patient=patient))
    expected = {f"note-{n.public_id}" for n in notes} | {f"visit-{v.public_id}" for v in visits}
    assert notes and visits

    def ids(**query):
        response = client.get("/fhir/R4/DocumentReference", {**query, "_count": 100}, **headers)
        assert response.status_code == 200, response.content[:300]
        return set(ids_of(response.json()))

    me = f"Patient/{patient.public_id}"
    assert ids(patient=me) == expected
    assert ids(patient=str(patient.public_id), category="clinical-note") == expected
    assert ids(patient=me, category="http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category|"
                                   "clinical-note") == expected
    assert ids(patient=me, category="discharge-summary") == set()
    assert ids(patient=me, type=f"{LOINC}|28570-0") == {f"note-{n.public_id}" for n in notes}
    assert ids(patient=me, type="11488-4") == {f"visit-{v.public_id}" for v in visits}
    assert ids(patient=me, type="http://snomed.info/sct|28570-0") == set()  # a code in another system
    assert ids(patient=me, status="current") == expected and ids(patient=me, status="superseded") == set()
    note = notes[0]
    signed_day = note.signed_at.astimezone(UTC).date().isoformat()
    assert f"note-{note.public_id}" in ids(patient=me, category="clinical-note", date=signed_day)
    assert f"note-{note.public_id}" not in ids(patient=me, category="clinical-note", date=f"gt{signed_day}")
    assert f"note-{note.public_id}" in ids(patient=me, date=f"ge{signed_day}", category="clinical-note")
    assert ids(_id=f"note-{note.public_id}") == {f"note-{note.public_id}"}
    assert ids(_id=f"visit-{note.public_id}") == set()  # a note's id with a visit's prefix names nothing

    body = client.get(f"/fhir/R4/DocumentReference/note-{note.public_id}", **headers).json()
    assert body["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"]
    assert body["subject"]["reference"] == me and body["docStatus"] in ("final", "amended")
    assert body["context"]["encounter"][0]["reference"] == f"Encounter/{note.public_id}"
    assert body["content"][0]["attachment"]["url"].endswith(f"/fhir/R4/Binary/note-{note.public_id}")


def test_care_plans_by_patient_and_category_and_id(client, fhir_demo, token_for):
    from triggerpoint.aftercare.selectors import plans

    headers = token_for(fhir_demo.staff["nurse.okafor"])
    patient = richest_patient(fhir_demo)
    own = {str(p.public_id) for p in plans(patient_id=patient.pk)}
    assert own
    found = client.get("/fhir/R4/CarePlan", {"patient": patient.public_id, "category": "assess-plan"}, **headers)
    assert set(ids_of(found.json())) == own
    careplan_category = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
    assert set(ids_of(client.get("/fhir/R4/CarePlan", {"patient": patient.public_id,
                                                    "category": f"{careplan_category}|assess-plan"},
                               **headers).json())) == own
    assert ids_of(client.get("/fhir/R4/CarePlan", {"patient": patient.public_id, "category": "careteam"},
                           **headers).json()) == []
    one = sorted(own)[0]
    assert ids_of(client.get(f"/fhir/R4/CarePlan?_id={one}", **headers).json()) == [one]
    body = client.get(f"/fhir/R4/CarePlan/{one}", **headers).json()
    assert body["resourceType"] == "CarePlan" and body["intent"] == "plan"
    assert body["category"][0]["coding"][0]["code"] == "assess-plan"
    assert body["subject"]["reference"] == f"Patient/{patient.public_id}"
    assert body["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


def test_consents_by_patient_and_id_with_the_pdf_as_source_attachment(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = _consent_patient(fhir_demo)
    found = client.get(f"/fhir/R4/Consent?patient=Patient/{patient.public_id}", **headers).json()
    assert found["total"] >= 1
    consent = found["entry"][0]["resource"]
    assert consent["patient"]["reference"] == f"Patient/{patient.public_id}"
    assert consent["scope"]["coding"][0]["code"] == "treatment" and "meta" not in consent  # base R4, no profile
    assert consent["sourceAttachment"]["url"].endswith(f"/fhir/R4/Binary/consent-{consent['id']}")
    assert ids_of(client.get(f"/fhir/R4/Consent?_id={consent['id']}", **headers).json()) == [consent["id"]]
    assert client.get(f"/fhir/R4/Consent/{consent['id']}", **headers).json()["id"] == consent["id"]
    from triggerpoint.screening.selectors import signed_consents

    someone_else = next(p for p in _riverside(fhir_demo) if not signed_consents(patient_id=p.pk).exists())
    assert client.get(f"/fhir/R4/Consent?patient={someone_else.public_id}", **headers).json()["total"] == 0


def test_everything_includes_the_documents_plans_and_consents(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = _consent_patient(fhir_demo)
    kinds = {r["resourceType"] for r in _all(client, f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100",
                                             headers)}
    assert {"DocumentReference", "Consent"} <= kinds, kinds
    rich = richest_patient(fhir_demo)
    kinds = {r["resourceType"] for r in _all(client, f"/fhir/R4/Patient/{rich.public_id}/$everything?_count=100",
                                             headers)}
    assert {"DocumentReference", "CarePlan"} <= kinds, kinds


# ------------------------------------------------------------------ the PDFs (Binary)
def test_a_client_following_the_attachment_urls_gets_the_pdfs_with_its_token(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = _consent_patient(fhir_demo)
    documents = _all(client, f"/fhir/R4/DocumentReference?patient={patient.public_id}", headers)
    consents = _all(client, f"/fhir/R4/Consent?patient={patient.public_id}", headers)
    note = next(d for d in documents if d["id"].startswith("note-"))
    urls = [note["content"][0]["attachment"]["url"], consents[0]["sourceAttachment"]["url"]]
    visit = next((d for d in documents if d["id"].startswith("visit-")), None)
    if visit is None:  # this patient had no assessment visit signed: take the richest chart's
        visit = next(d for d in _all(client, f"/fhir/R4/DocumentReference?patient={richest_patient(fhir_demo).public_id}"
                                              "&type=11488-4", headers))
    urls.append(visit["content"][0]["attachment"]["url"])
    for url in urls:
        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = client.get(_local(url), HTTP_ACCEPT="application/pdf", **headers)
        assert response.status_code == 200, response.content[:300]
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-") and len(response.content) > 1000
        assert response["Content-Disposition"].startswith("inline; filename=")
        reads = AuditEvent.objects.filter(pk__gt=before, action="fhir.resource.read")
        assert reads.count() == 1, list(reads.values("details"))  # one event, for the document's patient
        event = reads.get()
        binary_id = url.rsplit("/", 1)[1]
        assert event.details["resource"] == "Binary" and event.details["id"] == binary_id
        assert event.actor == fhir_demo.staff["dr.rivera"]
        assert event.details["of"] in (f"DocumentReference/{binary_id}", f"Consent/{binary_id.removeprefix('consent-')}")
    # No Accept (a plain client following a link) is the PDF too; FHIR JSON asks for the Binary resource.
    assert client.get(_local(urls[0]), **headers).content.startswith(b"%PDF-")
    resource = client.get(_local(urls[1]), HTTP_ACCEPT="application/fhir+json", **headers)
    assert resource["Content-Type"].startswith("application/fhir+json")
    body = resource.json()
    assert body["resourceType"] == "Binary" and body["contentType"] == "application/pdf"
    assert body["securityContext"]["reference"] == f"Consent/{consents[0]['id']}"
    assert base64.b64decode(body["data"]).startswith(b"%PDF-")
    assert client.get(_local(urls[1]) + "?_format=json", **headers).json()["resourceType"] == "Binary"


def test_another_clinic_the_front_desk_and_no_token_do_not_get_the_pdfs(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    rivera = token_for(fhir_demo.staff["dr.rivera"])
    patient = _consent_patient(fhir_demo)
    note = _all(client, f"/fhir/R4/DocumentReference?patient={patient.public_id}&type=28570-0", rivera)[0]
    consent = _all(client, f"/fhir/R4/Consent?patient={patient.public_id}", rivera)[0]
    urls = [_local(note["content"][0]["attachment"]["url"]), _local(consent["sourceAttachment"]["url"])]
    berg = token_for(fhir_demo.staff["dr.berg"])  # Hillcrest's physician: another clinic
    for url in urls:
        outcome_of(client.get(url, HTTP_ACCEPT="application/pdf", **berg), 404, "not-found")
        refused = AuditEvent.objects.filter(action="audit.access.refused").latest("pk")
        assert refused.object_id == url.rsplit("/", 1)[1] and refused.details["outcome"] == "not_found"
    outcome_of(client.get(f"/fhir/R4/DocumentReference/{note['id']}", **berg), 404)
    outcome_of(client.get(f"/fhir/R4/Consent/{consent['id']}", **berg), 404)
    desk = token_for(fhir_demo.staff["desk.lopez"])  # no procedure.view, no consent.view
    for url in urls:
        outcome_of(client.get(url, **desk), 403, "forbidden")
    for kind in TYPES:
        outcome_of(client.get(f"/fhir/R4/{kind}?patient={patient.public_id}", **desk), 403, "forbidden")
    response = client.get(urls[0], HTTP_ACCEPT="application/pdf")
    outcome_of(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_smart_grant_follows_the_url_only_with_the_scope_of_the_pointing_resource(client, fhir_demo, token_for,
                                                                                    monkeypatch):
    from triggerpoint.fhir.tests.test_smart_hook import StandInGrant

    grants = {"docs": StandInGrant(fhir_demo.clinics[0], ("system/DocumentReference.read",),
                                   fhir_demo.staff["admin.patel"]),
              "patients": StandInGrant(fhir_demo.clinics[0], ("system/Patient.read",), fhir_demo.staff["admin.patel"]),
              "hillcrest": StandInGrant(fhir_demo.clinics[1], ("system/*.read",), fhir_demo.staff["admin.patel"])}
    monkeypatch.setattr(auth, "SMART_AUTHENTICATE", grants.get)
    patient = richest_patient(fhir_demo)
    documents = client.get(f"/fhir/R4/DocumentReference?patient={patient.public_id}",
                           HTTP_AUTHORIZATION="Bearer docs").json()
    url = _local(documents["entry"][0]["resource"]["content"][0]["attachment"]["url"])
    pdf = client.get(url, HTTP_AUTHORIZATION="Bearer docs", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    outcome_of(client.get(url, HTTP_AUTHORIZATION="Bearer patients"), 403, "forbidden")
    outcome_of(client.get(url, HTTP_AUTHORIZATION="Bearer hillcrest"), 404, "not-found")


def test_the_portal_patient_reads_their_own_consent_and_plans_but_not_the_clinical_documents(client, fhir_demo):
    own = fhir_demo.portal_patient
    client.force_login(own.portal_user)
    for kind in ("CarePlan", "Consent"):
        found = client.get(f"/fhir/R4/{kind}?_count=100").json()
        assert all(r["resource"]["subject" if kind == "CarePlan" else "patient"]["reference"] ==
                   f"Patient/{own.public_id}" for r in found["entry"]), kind
    outcome_of(client.get(f"/fhir/R4/DocumentReference?patient={own.public_id}"), 403)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("query", [
    "DocumentReference?subject=Patient/1", "DocumentReference?patient=Practitioner/1",
    "DocumentReference?date=yesterday", "DocumentReference?date=2026-13-01", "DocumentReference?type:text=note",
    "CarePlan?status=active", "CarePlan?patient=", "Consent?category=59284-0", "Consent?_id=a%00b",
])
def test_bad_input_is_a_400_operation_outcome(client, fhir_demo, token_for, query):
    outcome_of(client.get(f"/fhir/R4/{query}", **token_for(fhir_demo.staff["dr.rivera"])), 400, "invalid")


def test_binary_has_no_search_and_a_bad_id_or_format_is_refused(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    outcome_of(client.get("/fhir/R4/Binary", **headers), 400, "not-supported")
    outcome_of(client.get("/fhir/R4/Binary/not-a-document", **headers), 404, "not-found")
    outcome_of(client.get("/fhir/R4/Binary/note-00000000-0000-0000-0000-000000000000", **headers), 404)
    outcome_of(client.get("/fhir/R4/Binary/consent-x%20y", **headers), 404)
    outcome_of(client.get("/fhir/R4/DocumentReference/note-nope", **headers), 404)
    patient = richest_patient(fhir_demo)
    note = client.get(f"/fhir/R4/DocumentReference?patient={patient.public_id}&type=28570-0",
                      **headers).json()["entry"][0]["resource"]
    url = _local(note["content"][0]["attachment"]["url"])
    outcome_of(client.get(url, HTTP_ACCEPT="text/html", **headers), 406, "not-supported")
    outcome_of(client.get(url + "?_format=xml", **headers), 406)
    response = client.post(url, **headers)
    outcome_of(response, 405, "not-supported")


# ------------------------------------------------------------------ audit
def test_each_search_and_read_audits_each_patient_once(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    headers = token_for(fhir_demo.staff["dr.rivera"])
    client.get("/fhir/R4/metadata", **headers)
    for kind in TYPES:
        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        bundle = client.get(f"/fhir/R4/{kind}?_count=50", **headers).json()
        patients = {(e["resource"].get("subject") or e["resource"].get("patient"))["reference"]
                    for e in bundle["entry"]}
        events = AuditEvent.objects.filter(pk__gt=before, action="fhir.resource.searched")
        assert sorted(f"Patient/{e.patient.public_id}" for e in events) == sorted(patients), kind
        assert all(e.details["resource"] == kind and e.details["results"] == len(bundle["entry"]) for e in events)
        one = bundle["entry"][0]["resource"]
        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        client.get(f"/fhir/R4/{kind}/{one['id']}", **headers)
        read = AuditEvent.objects.filter(pk__gt=before, action="fhir.resource.read").get()
        assert read.details == {"channel": "fhir", "resource": kind, "id": one["id"]}
        assert f"Patient/{read.patient.public_id}" == (one.get("subject") or one.get("patient"))["reference"]


# ------------------------------------------------------------------ the independent validators
def test_every_document_plan_and_consent_of_the_demo_passes_the_independent_validators(client, fhir_demo, token_for,
                                                                                      fhir_validator):
    seen = dict.fromkeys(TYPES, 0)
    problems = []
    for user in ("dr.rivera", "dr.berg"):  # both clinics
        headers = token_for(fhir_demo.staff[user])
        for kind in TYPES:
            url = f"/fhir/R4/{kind}?_count=100"
            while url:
                bundle = client.get(url, **headers).json()
                seen[kind] += len(bundle["entry"])
                if bundle["entry"]:
                    problems += fhir_validator.errors(fhir_validator.validate(bundle))
                more = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
                url = more[0].removeprefix("http://testserver") if more else None
    assert problems == [], fhir_validator.explain(problems)
    assert seen["DocumentReference"] >= 100 and seen["CarePlan"] >= 10 and seen["Consent"] == 2, seen
    # the check can fail: a DocumentReference without its required status is caught
    headers = token_for(fhir_demo.staff["dr.rivera"])
    broken = client.get("/fhir/R4/DocumentReference?_count=1", **headers).json()
    del broken["entry"][0]["resource"]["status"]
    assert fhir_validator.errors(fhir_validator.validate(broken))


def test_the_capability_statement_declares_binary_for_the_types_that_point_at_it(client):
    assert set(capability.BINARY_OWNERS) == set(binary.OWNERS)
    statement = client.get("/fhir/R4/metadata").json()
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(TYPES) <= set(declared)
    assert declared["DocumentReference"]["supportedProfile"] == [
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"]
    assert declared["CarePlan"]["supportedProfile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan"]
    assert "supportedProfile" not in declared["Consent"]
    assert declared["Binary"]["interaction"] == [{"code": "read"}]


# ------------------------------------------------------------------ numbering sites and injectates (no N+1)
@pytest.mark.parametrize("kind", ["BodyStructure", "MedicationAdministration"])
def test_a_page_costs_the_same_queries_however_many_sites_its_notes_have(client, fhir_demo, token_for, kind,
                                                                         django_assert_max_num_queries):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    client.get(f"/fhir/R4/{kind}?_count=1", **headers)  # the token's first use is audited once
    with CaptureQueriesContext(connection) as one_row:
        client.get(f"/fhir/R4/{kind}?_count=1", **headers)
    baseline = len(one_row.captured_queries)
    numbers = set()
    for count in (10, 50, 100):
        with django_assert_max_num_queries(baseline):
            bundle = client.get(f"/fhir/R4/{kind}?_count={count}", **headers).json()
        assert len(bundle["entry"]) == count
        numbers |= {int(i.rsplit("-", 1)[1].lstrip("m")) for i in ids_of(bundle)}
    assert max(numbers) >= 2, numbers  # notes with several rows were on the pages
    # one patient's many rows cost no more than one of them (`patient=` first finds the charts that make the
    # patient up, docs/MERGING.md: one query more than an unfiltered page, whatever the page holds)
    patient = richest_patient(fhir_demo)
    with CaptureQueriesContext(connection) as one_of_theirs:
        client.get(f"/fhir/R4/{kind}?patient={patient.public_id}&_count=1", **headers)
    with django_assert_max_num_queries(len(one_of_theirs.captured_queries)):
        bundle = client.get(f"/fhir/R4/{kind}?patient={patient.public_id}&_count=100", **headers).json()
    assert len(bundle["entry"]) > 1


@pytest.mark.parametrize("mapper, relation", [(body_structure, "sites"), (medication_administration, "injectates")])
def test_rows_are_numbered_in_their_notes_order_by_the_query_and_read_back_by_id(fhir_demo, mapper, relation,
                                                                              django_assert_num_queries):
    from triggerpoint.procedures.selectors import procedures_with_sites

    clinic = fhir_demo.clinics[0]
    rows = list(mapper.records(**{mapper.CLINIC_FIELD: clinic.pk})[:150])
    with django_assert_num_queries(0):  # the place comes with the row: mapping reads nothing more
        ids = {row.pk: mapper.to_resource(row)["id"] for row in rows}
    order = body_structure.ordered_sites if relation == "sites" else medication_administration.ordered_injectates
    separator = "-" if relation == "sites" else "-m"
    notes = procedures_with_sites({row.procedure_id for row in rows})
    checked = 0
    for note in notes:
        for n, row in enumerate(order(note), start=1):
            if row.pk in ids:
                assert ids[row.pk] == f"{note.public_id}{separator}{n}"
                checked += 1
    assert checked == len(rows)
    for row_pk, resource_id in list(ids.items())[:40]:  # the `_id` filter finds the same row
        assert mapper.get(resource_id, clinic).pk == row_pk
        assert mapper.get(resource_id, fhir_demo.clinics[1]) is None


@pytest.mark.parametrize("kind", TYPES)
def test_a_page_of_documents_plans_or_consents_costs_the_same_queries_as_one(client, fhir_demo, token_for, kind,
                                                                            django_assert_max_num_queries):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    client.get(f"/fhir/R4/{kind}?_count=1", **headers)  # the token's first use is audited once
    with CaptureQueriesContext(connection) as one_row:
        client.get(f"/fhir/R4/{kind}?_count=1", **headers)
    with django_assert_max_num_queries(len(one_row.captured_queries)):  # amendments, diagnoses: prefetched
        bundle = client.get(f"/fhir/R4/{kind}?_count=100", **headers).json()
    assert len(bundle["entry"]) == min(100, bundle["total"]) > 1
