"""FHIR Bulk Data export on the demo clinic: kick-off, run (the task's service function, driven here), poll,
manifest, download; every line validated by the independent validators and counted against the FHIR search.

The worker is not running in tests (dummy task backend): each test calls `bulk_run.run_export(job)`
where the worker would.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from triggerpoint.accounts import smart_clients
from triggerpoint.accounts.policy import can
from triggerpoint.accounts.tests import smart_client_kit as kit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.fhir import bulk_export, bulk_run, groups, registry
from triggerpoint.fhir.models import ExportJob, PatientGroup
from triggerpoint.fhir.tests.conftest import richest_patient

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    return settings.FHIR_EXPORT_DIR


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def kickoff(client, path: str, headers: dict, **params):
    return client.get(f"/fhir/R4/{path}", params, **headers, **ASYNC)


def run_queued() -> list[str]:
    return [bulk_run.run_export(pk) for pk in
            ExportJob.objects.filter(status=ExportJob.ACCEPTED).order_by("pk").values_list("pk", flat=True)]


def export(client, path: str, headers: dict, **params) -> dict:
    """Kick off, see it pending, run it, and return the completed manifest."""
    started = kickoff(client, path, headers, **params)
    assert started.status_code == 202, started.content
    status_url = _path(started["Content-Location"])
    pending = client.get(status_url, **headers)
    assert pending.status_code == 202 and pending["X-Progress"] and pending["Retry-After"]
    assert run_queued() == ["completed"]
    done = client.get(status_url, **headers)
    assert done.status_code == 200, done.content
    body = done.json()
    body["_status_url"] = status_url
    return body


def download(client, url: str, headers: dict) -> list[dict]:
    response = client.get(_path(url), **headers, HTTP_ACCEPT="application/fhir+ndjson")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/fhir+ndjson"
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def search_total(client, kind: str, headers: dict, **params) -> int:
    response = client.get(f"/fhir/R4/{kind}", {"_count": 0, **params}, **headers)
    assert response.status_code == 200, response.content[:300]
    return response.json()["total"]


def by_type(client, body: dict, headers: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for output in body["output"]:
        lines = download(client, output["url"], headers)
        assert len(lines) == output["count"] and all(r["resourceType"] == output["type"] for r in lines)
        found.setdefault(output["type"], []).extend(lines)
    return found


def test_system_export_with_a_bearer_token_matches_the_search_and_passes_the_validators(
        client, fhir_demo, token_for, fhir_validator):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    before = AuditEvent.objects.count()
    body = export(client, "$export", headers)
    assert body["requiresAccessToken"] is True and body["error"] == []
    assert body["request"].endswith("/fhir/R4/$export") and body["transactionTime"].endswith("Z")
    exported = by_type(client, body, headers)
    for resource in registry.all_types():  # every type the clinician may read: counts equal the search totals
        if not can(fhir_demo.staff["dr.rivera"], resource.action):  # the audit trail is the clinic admin's
            assert resource.name not in exported, resource.name
            continue
        total = search_total(client, resource.name, headers)
        assert len(exported.get(resource.name, [])) == total, resource.name
    assert {"Patient", "Encounter", "Procedure", "Observation", "Group"} <= set(exported)
    ids = [(kind, r["id"]) for kind, rows in exported.items() for r in rows]
    assert len(ids) == len(set(ids))
    resources = [r for rows in exported.values() for r in rows]
    issues = fhir_validator.errors(fhir_validator.validate(resources))
    assert issues == [], fhir_validator.explain(issues)
    # Audit: the kick-off, one fhir.export.read per patient exported, each download.
    events = AuditEvent.objects.filter(pk__gt=0).order_by("pk")[before:]
    actions = [e.action for e in events]
    assert actions.count("fhir.export.requested") == 1
    riverside = {p.pk for p in fhir_demo.patients if p.clinic_id == fhir_demo.clinics[0].pk}
    read = AuditEvent.objects.filter(action="fhir.export.read")
    assert {e.patient_id for e in read} == riverside and read.count() == len(riverside)
    assert {e.actor_id for e in read} == {fhir_demo.staff["dr.rivera"].pk}
    assert AuditEvent.objects.filter(action="fhir.export_file.downloaded").count() == len(body["output"])


def test_a_smart_backend_client_exports_what_its_scopes_cover(client, fhir_demo, token_for):
    admin = fhir_demo.staff["admin.patel"]
    key = kit.rsa_key("bulk-1")
    registered = smart_clients.register_client(admin, name="warehouse", keys=kit.public_jwks(key),
                                               scopes="system/Patient.read system/Encounter.read")
    issued = kit.post_token(client, kit.token_form(kit.sign(key, registered.client_id),
                                                   scope="system/Patient.read system/Encounter.read"))
    assert issued.status_code == 200, issued.content
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.json()['access_token']}"}
    refused = kickoff(client, "$export", headers, _type="Patient,Procedure")
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    body = export(client, "$export", headers)
    assert {o["type"] for o in body["output"]} == {"Patient", "Encounter"}
    exported = by_type(client, body, headers)
    assert len(exported["Patient"]) == search_total(client, "Patient", headers)
    assert len(exported["Encounter"]) == search_total(client, "Encounter", headers)
    job = ExportJob.objects.get()
    assert job.smart_client_id == registered.client_id and job.user is None
    read = AuditEvent.objects.filter(action="fhir.export.read")
    assert read.exists() and {e.actor_label for e in read} == {f"smart:{registered.client_id}"}
    # Another client of the same clinic (here: a staff token) cannot poll or download this client's export.
    other = token_for(fhir_demo.staff["dr.rivera"])
    assert client.get(body["_status_url"], **other).status_code == 404
    assert client.get(_path(body["output"][0]["url"]), **other).status_code == 404


def test_type_and_output_format_are_checked(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = export(client, "$export", headers, _type="Patient,Encounter", _outputFormat="application/ndjson")
    assert [o["type"] for o in body["output"]] == ["Patient", "Encounter"]
    for bad in ({"_type": "Shoe"}, {"_type": "Patient,Medication"}, {"_type": ","},
                {"_outputFormat": "text/csv"}, {"_since": "yesterday"}, {"_since": "2026-01-01T10:00:00"},
                {"_typeFilter": "Patient?gender=female"}, {"shoe": "42"}):
        response = kickoff(client, "$export", headers, **bad)
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["resourceType"] == "OperationOutcome"
    patient_level = kickoff(client, "Patient/$export", headers, _type="Group")
    assert patient_level.status_code == 400  # Group is not in the patient compartment
    for fmt in ("ndjson", "application/fhir+ndjson"):
        assert kickoff(client, "$export", headers, _type="Patient", _outputFormat=fmt).status_code == 202
        run_queued()
    lenient = client.get("/fhir/R4/$export", {"_type": "Patient", "_typeFilter": "x"}, **headers,
                         HTTP_PREFER="respond-async, handling=lenient")
    assert lenient.status_code == 202


def test_without_prefer_respond_async_it_is_a_400(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    response = client.get("/fhir/R4/$export", **headers)
    assert response.status_code == 400 and "respond-async" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/R4/$export", **ASYNC).status_code == 401
    assert not ExportJob.objects.exists()


def test_since_keeps_what_changed_after_the_cut(client, fhir_demo, token_for):
    from triggerpoint.patients import selectors as patients

    headers = token_for(fhir_demo.staff["dr.rivera"])
    riverside = [p for p in fhir_demo.patients if p.clinic_id == fhir_demo.clinics[0].pk]
    cut = timezone.now() + timedelta(days=1)
    changed, unchanged = riverside[1], riverside[2]
    patients.patients(pk=changed.pk).update(updated_at=cut + timedelta(hours=1))
    body = export(client, "$export", headers, _type="Patient,Procedure",
                  _since=cut.isoformat().replace("+00:00", "Z"))
    exported = by_type(client, body, headers)
    ids = {r["id"] for r in exported.get("Patient", [])}
    assert str(changed.public_id) in ids and str(unchanged.public_id) not in ids
    assert "Procedure" not in exported  # no note changed after the cut
    assert bulk_run.since_field(patients.patients().model) == "updated_at"


def test_patient_level_export_leaves_out_groups_and_a_patient_without_procedures_does_not_fail_it(
        client, fhir_demo, token_for):
    from triggerpoint.patients.services import create_patient

    headers = token_for(fhir_demo.staff["dr.rivera"])
    clinic = fhir_demo.clinics[0]
    bare = create_patient(fhir_demo.staff["dr.rivera"], clinic, {
        "mrn": "RIV-BULK01", "given_name": "Nora", "family_name": "Plain", "date_of_birth": date(1980, 2, 3), "sex": "female"})
    body = export(client, "Patient/$export", headers)
    exported = by_type(client, body, headers)
    assert "Group" not in exported
    assert str(bare.public_id) in {r["id"] for r in exported["Patient"]}
    assert all(r["subject"]["reference"] != f"Patient/{bare.public_id}" for r in exported["Procedure"])
    assert len(exported["Procedure"]) == search_total(client, "Procedure", headers)


def test_group_export_holds_the_members_and_the_group(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    group = PatientGroup.objects.get(clinic=fhir_demo.clinics[0], name__startswith="Research")
    members = {str(p.public_id) for p in group.members.all()}
    assert members
    body = export(client, f"Group/{group.public_id}/$export", headers)
    exported = by_type(client, body, headers)
    assert {r["id"] for r in exported["Patient"]} == members
    assert [g["id"] for g in exported["Group"]] == [str(group.public_id)]
    for kind in ("Encounter", "Procedure", "Observation"):
        assert all(r["subject"]["reference"].removeprefix("Patient/") in members for r in exported.get(kind, []))
        expected = sum(search_total(client, kind, headers, patient=m) for m in members)
        assert len(exported.get(kind, [])) == expected, kind
    read = AuditEvent.objects.filter(action="fhir.export.read")
    assert {str(e.object_id) for e in read} == members
    listed = client.get("/fhir/R4/Group", {"name": "Research"}, **headers).json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(group.public_id)]


def test_an_empty_group_completes_with_no_output_and_a_missing_group_is_a_404(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    empty = PatientGroup.objects.get(clinic=fhir_demo.clinics[0], name__startswith="New cohort")
    body = export(client, f"Group/{empty.public_id}/$export", headers)
    assert body["output"] == [] and body["error"] == []
    for missing in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "x" * 80):
        response = kickoff(client, f"Group/{missing}/$export", headers)
        assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"
    hillcrest = PatientGroup.objects.filter(clinic=fhir_demo.clinics[1]).first()
    assert kickoff(client, f"Group/{hillcrest.public_id}/$export", headers).status_code == 404


def test_cancel_deletes_the_files_and_the_status_url_is_gone(client, fhir_demo, token_for, export_dir):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = export(client, "$export", headers, _type="Patient")
    job = ExportJob.objects.get()
    assert list((export_dir / str(job.public_id)).iterdir())
    cancelled = client.delete(body["_status_url"], **headers)
    assert cancelled.status_code == 202
    assert not (export_dir / str(job.public_id)).exists()
    assert client.get(body["_status_url"], **headers).status_code == 404
    assert client.get(_path(body["output"][0]["url"]), **headers).status_code == 404
    assert client.delete(body["_status_url"], **headers).status_code == 404
    assert AuditEvent.objects.filter(action="fhir.export.cancelled").count() == 1


def test_cancelling_a_running_export_stops_it_at_its_next_beat(client, fhir_demo, token_for, settings, export_dir):
    settings.FHIR_EXPORT_CHUNK = 5
    headers = token_for(fhir_demo.staff["dr.rivera"])
    started = kickoff(client, "$export", headers, _type="Patient")
    assert started.status_code == 202
    job = ExportJob.objects.get()
    principal = SimpleNamespace(actor=fhir_demo.staff["dr.rivera"])
    real_beat = bulk_run._beat

    def cancel_then_beat(*args):  # the client's DELETE (another process) lands while the worker is writing
        bulk_export.cancel(principal, job)
        return real_beat(*args)

    bulk_run._beat = cancel_then_beat
    try:
        assert bulk_run.run_export(job.pk) == "cancelled"
    finally:
        bulk_run._beat = real_beat
    assert not (export_dir / str(job.public_id)).exists()
    assert not AuditEvent.objects.filter(action="fhir.export.read").exists()
    assert ExportJob.objects.get().status == ExportJob.CANCELLED


def test_another_clinics_status_and_file_urls_are_404(client, fhir_demo, token_for):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = export(client, "$export", headers, _type="Patient")
    hillcrest = next(u for u in fhir_demo.staff.values() if u.clinic_id == fhir_demo.clinics[1].pk)
    other = token_for(hillcrest)
    assert client.get(body["_status_url"], **other).status_code == 404
    assert client.delete(body["_status_url"], **other).status_code == 404
    assert client.get(_path(body["output"][0]["url"]), **other).status_code == 404
    assert download(client, body["output"][0]["url"], headers)  # (read to the end: the test client closes it)
    job = ExportJob.objects.get()
    for bad in (f"/fhir/R4/$export-file/{job.public_id}/..%2Fsecret", f"/fhir/R4/$export-file/{job.public_id}/x.txt",
                "/fhir/R4/$export-status/not-a-job", f"/fhir/R4/$export-file/{job.public_id}/Patient-9.ndjson"):
        response = client.get(bad, **headers)
        assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome", bad


def test_a_second_kick_off_while_one_runs_is_429_until_it_ends(client, fhir_demo, token_for, settings):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    assert kickoff(client, "$export", headers, _type="Patient").status_code == 202
    second = kickoff(client, "$export", headers, _type="Patient")
    assert second.status_code == 429 and second["Retry-After"]
    assert second.json()["resourceType"] == "OperationOutcome"
    other_user = token_for(fhir_demo.staff["nurse.okafor"])
    assert kickoff(client, "$export", other_user, _type="Patient").status_code == 202  # one per client, not per clinic
    run_queued()
    assert kickoff(client, "$export", headers, _type="Patient").status_code == 202
    settings.FHIR_EXPORT_ONE_PER_CLIENT = False
    assert kickoff(client, "$export", headers, _type="Patient").status_code == 202


def test_a_job_whose_worker_died_is_failed_with_a_reason_on_the_next_poll(client, fhir_demo, token_for, export_dir):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    started = kickoff(client, "$export", headers, _type="Patient")
    status_url = _path(started["Content-Location"])
    job = ExportJob.objects.get()
    # The worker claimed the job, wrote part of a file, then died: no heartbeat since.
    long_ago = timezone.now() - timedelta(minutes=30)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.IN_PROGRESS, started_at=long_ago,
                                               heartbeat_at=long_ago, transaction_time=long_ago)
    (export_dir / str(job.public_id)).mkdir(parents=True)
    (export_dir / str(job.public_id) / "Patient-1.ndjson").write_text('{"resourceType":"Pat')
    response = client.get(status_url, **headers)
    assert response.status_code == 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and "stopped responding" in outcome["issue"][0]["diagnostics"]
    job.refresh_from_db()
    assert job.status == ExportJob.FAILED and job.active_key is None
    assert not (export_dir / str(job.public_id)).exists()
    assert bulk_run.run_export(job.pk) == ExportJob.FAILED  # a late worker does not revive it
    assert kickoff(client, "$export", headers, _type="Patient").status_code == 202  # the client may start again


def test_a_crash_while_writing_fails_the_job_with_a_reason_not_a_500(client, fhir_demo, token_for, monkeypatch):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    started = kickoff(client, "$export", headers, _type="Patient")
    patient_type = registry.get("Patient")
    broken = registry.ResourceType(**{**patient_type.__dict__, "sources": tuple(
        registry.Source(**{**s.__dict__, "to_resource": lambda record: 1 / 0}) for s in patient_type.sources)})
    monkeypatch.setitem(registry._REGISTRY, "Patient", broken)
    assert run_queued() == ["failed"]
    response = client.get(_path(started["Content-Location"]), **headers)
    assert response.status_code == 500 and "ZeroDivisionError" in response.json()["issue"][0]["diagnostics"]
    assert not AuditEvent.objects.filter(action="fhir.export.read").exists()


def test_files_expire_and_the_sweep_deletes_them(client, fhir_demo, token_for, export_dir):
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = export(client, "$export", headers, _type="Patient")
    job = ExportJob.objects.get()
    assert job.expires_at > timezone.now() + timedelta(hours=23)
    assert bulk_export.sweep() == {"fhir_exports_expired": 0, "fhir_exports_recovered": 0}
    later = job.expires_at + timedelta(seconds=1)
    assert bulk_export.sweep(now=later) == {"fhir_exports_expired": 1, "fhir_exports_recovered": 0}
    assert not (export_dir / str(job.public_id)).exists()
    assert client.get(body["_status_url"], **headers).status_code == 404
    assert client.get(_path(body["output"][0]["url"]), **headers).status_code == 404


def test_large_types_are_split_into_parts(client, fhir_demo, token_for, settings):
    settings.FHIR_EXPORT_FILE_MAX_RESOURCES = 7
    settings.FHIR_EXPORT_CHUNK = 3
    headers = token_for(fhir_demo.staff["dr.rivera"])
    body = export(client, "$export", headers, _type="Patient")
    total = search_total(client, "Patient", headers)
    assert len(body["output"]) == -(-total // 7) and all(o["count"] <= 7 for o in body["output"])
    ids = [r["id"] for o in body["output"] for r in download(client, o["url"], headers)]
    assert len(ids) == len(set(ids)) == total


def test_front_desk_exports_patients_only_and_a_portal_account_is_refused(client, fhir_demo, token_for):
    desk = token_for(fhir_demo.staff["desk.lopez"])
    body = export(client, "$export", desk)
    # Patient and no clinical type; the staff directory and the clinic (Practitioner, Organization) are no one's record
    assert {o["type"] for o in body["output"]} <= {"Patient", "Group", "Practitioner", "Organization"}
    assert "Patient" in {o["type"] for o in body["output"]}
    assert kickoff(client, "$export", desk, _type="Procedure").status_code == 403
    portal = token_for(fhir_demo.portal_patient.portal_user)
    assert kickoff(client, "$export", portal).status_code == 403


def test_the_capability_statement_declares_the_export_operations(client):
    statement = client.get("/fhir/R4/metadata").json()
    assert "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data|2.0.0" in statement["instantiates"]
    rest = statement["rest"][0]
    assert rest["operation"] == [{"name": "export",
                                  "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"} \
        in by_type["Patient"]["operation"]
    assert by_type["Group"]["operation"] == [
        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}]


def test_groups_are_made_and_filled_by_the_command(fhir_demo):
    from django.core.management import call_command

    clinic = fhir_demo.clinics[0]
    patient = richest_patient(fhir_demo)
    call_command("fhir_group", "create", "--clinic", clinic.slug, "--name", "Knee cohort")
    group = PatientGroup.objects.get(clinic=clinic, name="Knee cohort")
    call_command("fhir_group", "add", "--clinic", clinic.slug, "--group", str(group.public_id), "--mrn", patient.mrn)
    assert list(group.members.all()) == [patient]
    with pytest.raises(groups.GroupError):
        groups.create_group(clinic, "Knee cohort")
    assert AuditEvent.objects.filter(action="fhir.group.members_added", patient=patient).exists()


def test_the_workers_sweep_runs_the_export_sweep(db):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "'fhir_exports_expired': 0" in out.getvalue() and "'fhir_exports_recovered': 0" in out.getvalue()
