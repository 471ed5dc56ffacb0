"""Read, search, paging, $everything, content negotiation, the access policy and the audit, on the demo clinic.

Given the demo clinic (Riverside and Hillcrest), a token of a Riverside physician, nurse, front desk,
analyst or admin, or the portal patient's session; each test states what one of them may see.
"""

from __future__ import annotations

import pytest

from triggerpoint.fhir import registry
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"


def _riverside(demo):
    return [p for p in demo.patients if p.clinic_id == demo.clinics[0].pk]


def _hillcrest(demo):
    return [p for p in demo.patients if p.clinic_id == demo.clinics[1].pk]


def _ids(bundle):
    return [e["resource"]["id"] for e in bundle["entry"]]


def _outcome(response, status, code=None):
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith(("application/fhir+json", "application/json"))
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"][0]["severity"] == "error" and body["issue"][0]["diagnostics"]
    if code:
        assert body["issue"][0]["code"] == code, body
    return body


# ------------------------------------------------------------------ read and search
def test_it_reads_a_patient_with_mrn_name_gender_birth_date_telecom_and_language(client, fhir_demo, token_for):
    patient = _riverside(fhir_demo)[3]
    response = client.get(f"/fhir/R4/Patient/{patient.public_id}", **token_for(fhir_demo.staff["desk.lopez"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    body = response.json()
    assert body["identifier"][0]["value"] == patient.mrn
    assert body["identifier"][0]["system"] == f"urn:uuid:{patient.clinic.public_id}"
    assert body["name"][0]["family"] == patient.family_name and body["name"][0]["given"] == [patient.given_name]
    assert body["gender"] == patient.sex and body["birthDate"] == patient.date_of_birth.isoformat()
    assert {"system": "phone", "value": patient.phone} in body["telecom"]
    assert body["communication"][0]["language"]["coding"][0]["code"] == patient.preferred_language


def test_patient_searches_by_identifier_name_birthdate_and_gender(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = _riverside(fhir_demo)[5]
    system = f"urn:uuid:{patient.clinic.public_id}"

    def ids(**query):
        response = client.get("/fhir/R4/Patient", {**query, "_count": 100}, **headers)
        assert response.status_code == 200, response.content[:300]
        return _ids(response.json())

    me = str(patient.public_id)
    assert ids(identifier=f"{system}|{patient.mrn}") == [me]
    assert ids(identifier=patient.mrn) == [me]
    assert ids(identifier=f"urn:uuid:{fhir_demo.clinics[1].public_id}|{patient.mrn}") == []
    assert me in ids(name=patient.family_name.upper()[:4])
    assert me in ids(name=patient.given_name.lower())
    assert me in ids(birthdate=patient.date_of_birth.isoformat(), name=patient.family_name)
    assert me not in ids(birthdate=f"gt{patient.date_of_birth.isoformat()}", name=patient.family_name)
    assert me in ids(birthdate=f"le{patient.date_of_birth.isoformat()}", name=patient.family_name)
    assert me not in ids(birthdate=f"lt{patient.date_of_birth.isoformat()}", name=patient.family_name)
    assert me in ids(birthdate=f"ge{patient.date_of_birth.year}", name=patient.family_name)
    assert me in ids(birthdate=patient.date_of_birth.isoformat()[:7])
    assert me in ids(gender=patient.sex, name=patient.family_name)
    assert me not in ids(gender="male" if patient.sex == "female" else "female", name=patient.family_name)
    assert ids(_id=me) == [me]
    assert ids(_id="not-a-uuid") == []


def test_encounter_date_prefixes_bound_the_visits_of_one_patient(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["nurse.okafor"])
    patient = richest_patient(fhir_demo)
    everything = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}&_count=100", **headers).json()
    days = sorted({e["resource"]["period"]["start"][:10] for e in everything["entry"]})
    assert len(days) >= 2
    first, last = days[0], days[-1]

    def count(*dates):
        query = [("patient", str(patient.public_id)), ("_count", "100")] + [("date", d) for d in dates]
        from urllib.parse import urlencode

        return client.get(f"/fhir/R4/Encounter?{urlencode(query)}", **headers).json()["total"]

    total = everything["total"]
    assert count(f"ge{first}") == total
    assert count(f"gt{last}") == 0
    assert count(f"le{last}") == total
    assert count(f"lt{first}") == 0
    assert count(f"eq{first}") == sum(1 for e in everything["entry"] if e["resource"]["period"]["start"][:10] == first)
    assert count(f"ge{first}", f"le{first}") == count(first)
    assert count("ge9999-12-31") == 0 and count("le9999") == total and count("ge0001") == total


def test_count_pages_with_next_links_that_reach_every_result_once(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    first = client.get("/fhir/R4/Patient?_count=7", **headers).json()
    assert first["total"] == len(_riverside(fhir_demo))
    seen, url, pages = [], "/fhir/R4/Patient?_count=7", 0
    while url:
        body = client.get(url, **headers).json()
        assert len(body["entry"]) <= 7
        seen += _ids(body)
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = nxt[0].removeprefix("http://testserver") if nxt else None
        pages += 1
    assert pages == -(-first["total"] // 7)
    assert sorted(seen) == sorted(str(p.public_id) for p in _riverside(fhir_demo))
    zero = client.get("/fhir/R4/Patient?_count=0", **headers).json()
    assert zero["entry"] == [] and zero["total"] == first["total"]


def test_paging_runs_across_the_two_kinds_of_encounter(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = richest_patient(fhir_demo)
    whole = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}&_count=100", **headers).json()
    kinds = {e["resource"]["type"][0]["text"] for e in whole["entry"]}
    assert len(kinds) == 2, "the richest patient has assessment and procedure visits"
    paged = []
    for offset in range(0, whole["total"], 3):
        body = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}&_count=3&_offset={offset}",
                          **headers).json()
        paged += _ids(body)
    assert paged == _ids(whole)


def test_everything_returns_the_patient_and_what_references_them_paged(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = richest_patient(fhir_demo)
    body = client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100", **headers).json()
    types = [e["resource"]["resourceType"] for e in body["entry"]]
    assert types[0] == "Patient" and {"Encounter", "Condition", "AllergyIntolerance"} <= set(types)
    me = f"Patient/{patient.public_id}"
    served = {r.name for r in registry.all_types()}
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in body["entry"]}
    for entry in body["entry"][1:]:
        resource = entry["resource"]
        if resource["resourceType"] == "Provenance":  # names no patient: what it targets is this patient's
            targets = [t["reference"] for t in resource["target"]]
            assert all(t in present for t in targets if t.split("/")[0] in served), targets
            continue
        assert me in (resource.get("subject", {}).get("reference"), resource.get("patient", {}).get("reference"))
    small = client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=2", **headers).json()
    assert len(small["entry"]) == 2 and small["total"] == body["total"]
    assert any(link["relation"] == "next" for link in small["link"])


def test_front_desk_everything_holds_only_the_patient(client, fhir_demo, token_for):
    patient = richest_patient(fhir_demo)
    body = client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything",
                      **token_for(fhir_demo.staff["desk.lopez"])).json()
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient"]


def test_revinclude_provenance_is_accepted(client, fhir_demo, token_for):
    patient = richest_patient(fhir_demo)
    response = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}&_revinclude=Provenance:target",
                          **token_for(fhir_demo.staff["dr.rivera"]))
    assert response.status_code == 200
    entries = response.json()["entry"]
    matched = {f"Encounter/{e['resource']['id']}" for e in entries if e["search"]["mode"] == "match"}
    included = [e["resource"] for e in entries if e["search"]["mode"] == "include"]
    assert matched and included and {e["resourceType"] for e in included} == {"Provenance"}
    for provenance in included:
        assert matched & {t["reference"] for t in provenance["target"]}, provenance["id"]
    _outcome(client.get("/fhir/R4/Encounter?_revinclude=Observation:subject",
                        **token_for(fhir_demo.staff["dr.rivera"])), 400, "invalid")


def test_procedures_are_served_with_their_signatures_and_what_the_note_recorded(client, fhir_demo, token_for):
    patient = richest_patient(fhir_demo)
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = client.get(f"/fhir/R4/Procedure?patient={patient.public_id}&_revinclude=Provenance:target",
                      **headers).json()
    notes = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "match"]
    signatures = {e["resource"]["id"] for e in body["entry"] if e["search"]["mode"] == "include"}
    assert notes and body["total"] == len(notes)
    for note in notes:
        assert f"note-{note['id']}" in signatures
        for site in note.get("extension", []):  # each BodyStructure the note points to is served
            assert client.get(f"/fhir/R4/{site['valueReference']['reference']}", **headers).status_code == 200
    given = client.get(f"/fhir/R4/MedicationAdministration?patient={patient.public_id}", **headers).json()
    assert {e["resource"]["partOf"][0]["reference"] for e in given["entry"]} <= {f"Procedure/{n['id']}" for n in notes}
    desk = client.get(f"/fhir/R4/Procedure?patient={patient.public_id}", **token_for(fhir_demo.staff["desk.lopez"]))
    assert desk.status_code == 403
    _outcome(client.get("/fhir/R4/Provenance?target=123", **headers), 400, "invalid")


# ------------------------------------------------------------------ the access policy
def test_a_clinic_sees_only_its_own_patients(client, fhir_demo, token_for):
    riverside = token_for(fhir_demo.staff["dr.rivera"])
    other = _hillcrest(fhir_demo)[0]
    _outcome(client.get(f"/fhir/R4/Patient/{other.public_id}", **riverside), 404, "not-found")
    _outcome(client.get(f"/fhir/R4/Patient/{other.public_id}/$everything", **riverside), 404)
    assert client.get(f"/fhir/R4/Encounter?patient={other.public_id}", **riverside).json()["total"] == 0
    assert client.get(f"/fhir/R4/Patient?identifier={other.mrn}", **riverside).json()["total"] == 0
    hillcrest = token_for(fhir_demo.staff["dr.berg"])
    found = client.get("/fhir/R4/Patient?_count=100", **hillcrest).json()
    assert sorted(_ids(found)) == sorted(str(p.public_id) for p in _hillcrest(fhir_demo))


def test_front_desk_reads_patients_but_not_clinical_resources(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    headers = token_for(fhir_demo.staff["desk.lopez"])
    patient = richest_patient(fhir_demo)
    assert client.get(f"/fhir/R4/Patient/{patient.public_id}", **headers).status_code == 200
    for kind in ("AllergyIntolerance", "Condition", "Encounter"):
        _outcome(client.get(f"/fhir/R4/{kind}?patient={patient.public_id}", **headers), 403, "forbidden")
    encounter = client.get(f"/fhir/R4/Encounter?patient={patient.public_id}",
                           **token_for(fhir_demo.staff["dr.rivera"])).json()["entry"][0]["resource"]["id"]
    _outcome(client.get(f"/fhir/R4/Encounter/{encounter}", **headers), 403)
    refusal = AuditEvent.objects.filter(action="audit.access.refused", object_id=encounter).get()
    assert refusal.actor == fhir_demo.staff["desk.lopez"] and refusal.details["status"] == 403


@pytest.mark.parametrize("username", ["analyst.kim", "admin.patel"])
def test_roles_without_patient_access_are_refused_every_type(client, fhir_demo, token_for, username):
    headers = token_for(fhir_demo.staff[username])
    for kind in ("Patient", "AllergyIntolerance", "Condition", "Encounter"):
        _outcome(client.get(f"/fhir/R4/{kind}", **headers), 403)


def test_the_portal_patient_sees_only_their_own_patient_record(client, fhir_demo):
    own = fhir_demo.portal_patient
    client.force_login(own.portal_user)
    found = client.get("/fhir/R4/Patient?_count=100").json()
    assert _ids(found) == [str(own.public_id)]
    assert client.get(f"/fhir/R4/Patient/{own.public_id}").status_code == 200
    neighbour = next(p for p in _riverside(fhir_demo) if p.pk != own.pk)
    _outcome(client.get(f"/fhir/R4/Patient/{neighbour.public_id}"), 404)
    _outcome(client.get(f"/fhir/R4/Condition?patient={own.public_id}"), 403)  # clinical lists: clinicians (policy)


def test_a_staff_session_without_the_second_factor_is_not_signed_in(client, fhir_demo):
    client.force_login(fhir_demo.staff["dr.rivera"])
    response = client.get("/fhir/R4/Patient")
    _outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_and_a_wrong_token_are_401_with_www_authenticate(client, fhir_demo):
    response = client.get("/fhir/R4/Patient")
    _outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer realm=")
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer tpc_not-a-token")
    _outcome(response, 401)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    _outcome(client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer "), 401)
    assert client.get("/fhir/R4/metadata").status_code == 200  # the CapabilityStatement is public


def test_a_revoked_token_is_refused(client, fhir_demo):
    from django.utils import timezone

    from triggerpoint.accounts.models import ApiToken

    token, raw = ApiToken.issue(fhir_demo.staff["dr.rivera"], "soon revoked")
    assert client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    _outcome(client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401)


# ------------------------------------------------------------------ audit
def test_every_read_and_search_audits_each_patient_it_returned(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    headers = token_for(fhir_demo.staff["dr.rivera"])
    patient = richest_patient(fhir_demo)
    before = AuditEvent.objects.count()
    client.get(f"/fhir/R4/Patient/{patient.public_id}", **headers)
    read = AuditEvent.objects.filter(action="fhir.resource.read").latest("pk")
    assert read.patient_id == patient.pk and read.actor == fhir_demo.staff["dr.rivera"]
    assert read.details == {"channel": "fhir", "resource": "Patient", "id": str(patient.public_id)}
    page = client.get("/fhir/R4/Patient?_count=5", **headers).json()
    searched = AuditEvent.objects.filter(action="fhir.resource.searched").order_by("-pk")[:5]
    assert sorted(str(e.patient.public_id) for e in searched) == sorted(_ids(page))
    client.get(f"/fhir/R4/Encounter?patient={patient.public_id}&_count=100", **headers)
    assert AuditEvent.objects.filter(action="fhir.resource.searched", patient=patient).latest("pk").details[
        "resource"] == "Encounter"
    client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=100", **headers)
    everything = AuditEvent.objects.filter(action="fhir.everything.read")
    assert everything.count() == 1 and everything.get().patient_id == patient.pk  # one patient, one event
    assert AuditEvent.objects.count() - before == 1 + 5 + 1 + 1 + 1  # the read, 5 listed, 1 search, $everything, first use


def test_a_missing_record_is_audited_as_a_refusal(client, fhir_demo, token_for):
    from triggerpoint.audit.models import AuditEvent

    other = _hillcrest(fhir_demo)[0]
    client.get(f"/fhir/R4/Patient/{other.public_id}", **token_for(fhir_demo.staff["dr.rivera"]))
    refusal = AuditEvent.objects.filter(action="audit.access.refused", object_id=str(other.public_id)).get()
    assert refusal.details["outcome"] == "not_found" and refusal.clinic_id == fhir_demo.clinics[0].pk


# ------------------------------------------------------------------ negotiation and hostile input
@pytest.mark.parametrize("accept, expected", [
    ("", FHIR), ("application/fhir+json", FHIR), ("application/json", "application/json"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", FHIR), ("application/fhir+json; fhirVersion=4.0", FHIR),
])
def test_json_is_served_for_the_accept_headers_that_allow_it(client, fhir_demo, accept, expected):
    response = client.get("/fhir/R4/metadata", HTTP_ACCEPT=accept)
    assert response.status_code == 200 and response["Content-Type"].startswith(expected)


@pytest.mark.parametrize("query, accept", [
    ("", "application/fhir+xml"), ("", "text/html"), ("?_format=xml", ""), ("?_format=text/turtle", FHIR),
    ("", "application/json;q=0"),
])
def test_a_format_we_do_not_speak_is_406(client, fhir_demo, query, accept, token_for):
    _outcome(client.get(f"/fhir/R4/Patient{query}", HTTP_ACCEPT=accept, **token_for(fhir_demo.staff["dr.rivera"])),
             406, "not-supported")
    assert client.get("/fhir/R4/metadata?_format=json").status_code == 200


HOSTILE = [
    ("/fhir/R4/Patient?name=%00", 400), ("/fhir/R4/Patient?na%00me=x", 400), ("/fhir/R4/Patient/%00", 400),
    ("/fhir/R4/Patient?birthdate=2026-02-30", 400), ("/fhir/R4/Patient?birthdate=0000", 400),
    ("/fhir/R4/Patient?birthdate=99999", 400), ("/fhir/R4/Patient?birthdate=zz2020", 400),
    ("/fhir/R4/Patient?birthdate=2020-01-01T10:00", 400), ("/fhir/R4/Patient?birthdate=9999-12-31T23:59:59-14:00", 200),
    ("/fhir/R4/Patient?birthdate=ge9999-12-31T23:59:59Z", 200), ("/fhir/R4/Patient?birthdate=sa9999", 200),
    ("/fhir/R4/Patient?_count=-1", 400), ("/fhir/R4/Patient?_count=1e9", 400), ("/fhir/R4/Patient?_count=" + "9" * 5000, 400), ("/fhir/R4/Patient?_count=" + "9" * 200, 200),
    ("/fhir/R4/Patient?_offset=" + "9" * 5000, 400), ("/fhir/R4/Patient?_offset=99999999", 400),
    ("/fhir/R4/Patient?gender=robot", 400), ("/fhir/R4/Patient?name=", 400), ("/fhir/R4/Patient?name=" + "a" * 300, 400),
    ("/fhir/R4/Patient?name:exact=x", 400), ("/fhir/R4/Patient?_sort=name", 400), ("/fhir/R4/Patient?_include=x", 400),
    ("/fhir/R4/Encounter?patient=Observation/1", 400), ("/fhir/R4/Encounter?patient=" + "1" * 100, 400),
    ("/fhir/R4/Encounter?patient=%E2%80%AE", 400), ("/fhir/R4/Encounter?date=2026-13", 400),
    ("/fhir/R4/Patient/" + "a" * 65, 404), ("/fhir/R4/Patient/../../etc/passwd", 404), ("/fhir/R4/Nope", 404),
    ("/fhir/R4/Nope/1", 404), ("/fhir/R4/patient", 404), ("/fhir/R4/Patient/1/2/3", 404),
    ("/fhir/R4/Patient/x/$everything?_since=2020", 400), ("/fhir/R4/Patient/" + "0" * 40 + "/$everything", 404),
    ("/fhir/R4/Patient?identifier=urn:uuid:not-a-uuid|123", 200), ("/fhir/R4/Patient?identifier=|", 400),
    ("/fhir/R4/Patient?_id=" + ",".join(["x"] * 60), 200),
]


def test_hostile_input_is_a_4xx_operation_outcome_never_a_500(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    for url, status in HOSTILE:
        response = client.get(url, **headers)
        assert response.status_code == status, (url[:80], response.status_code, response.content[:300])
        if status >= 400:
            _outcome(response, status)


def test_a_deep_json_body_and_other_methods_are_refused_with_an_operation_outcome(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    deep = "[" * 5000 + "]" * 5000
    _outcome(client.post("/fhir/R4/Patient", data=deep, content_type="application/fhir+json", **headers), 400)
    _outcome(client.post("/fhir/R4/Patient", data="{}", content_type="application/fhir+json", **headers), 405)
    _outcome(client.delete(f"/fhir/R4/Patient/{fhir_demo.patients[0].public_id}", **headers), 405)
    response = client.put("/fhir/R4/Patient/x", data='{"resourceType": "Patient"}', content_type=FHIR, **headers)
    _outcome(response, 405)
    assert response["Allow"] == "GET, HEAD"


def test_a_page_costs_a_fixed_handful_of_queries_however_many_records_it_holds(client, fhir_demo, token_for,
                                                                          django_assert_max_num_queries):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    client.get("/fhir/R4/Patient?_count=0", **headers)  # the token's first use writes its own event
    for kind in ("Patient", "AllergyIntolerance", "Condition", "Encounter"):
        with django_assert_max_num_queries(12):
            body = client.get(f"/fhir/R4/{kind}?_count=100", **headers).json()
        assert len(body["entry"]) >= 10, kind
