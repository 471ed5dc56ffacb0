from __future__ import annotations

import json
import uuid

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.errors import HardDeleteRefused, ImmutableRecord, StaleVersion
from triggerpoint.patients.models import Patient


def _json(client, method, url, body, headers):
    return getattr(client, method)(url, data=json.dumps(body) if not isinstance(body, str) else body,
                                   content_type="application/json", **headers)


def test_each_patient_read_leaves_exactly_one_audit_event(physician, patient, login_as, bearer, client):
    headers = bearer(physician)
    before = AuditEvent.objects.filter(patient=patient, action="patients.patient.viewed").count()
    assert client.get(f"/api/v1/patients/{patient.public_id}", **headers).status_code == 200
    assert AuditEvent.objects.filter(patient=patient, action="patients.patient.viewed").count() == before + 1
    event = AuditEvent.objects.filter(patient=patient, action="patients.patient.viewed").first()
    assert event.actor == physician and event.clinic == patient.clinic
    assert event.request_id and event.ip == "127.0.0.1" and event.details["channel"] == "api"

    login_as(physician)
    assert client.get(f"/patients/{patient.public_id}/").status_code == 200
    assert AuditEvent.objects.filter(patient=patient, action="patients.patient.viewed").count() == before + 2


def test_the_portal_read_is_audited_against_the_patient(patient, client):
    client.force_login(patient.portal_user)
    assert client.get("/portal/").status_code == 200
    event = AuditEvent.objects.get(patient=patient, action="patients.patient.viewed")
    assert event.actor == patient.portal_user and event.details["channel"] == "portal"


def test_audit_events_refuse_update_and_delete(physician, patient, bearer, client):
    client.get(f"/api/v1/patients/{patient.public_id}", **bearer(physician))
    event = AuditEvent.objects.filter(patient=patient).first()
    event.action = "tampered"
    with pytest.raises(ImmutableRecord):
        event.save()
    with pytest.raises(ImmutableRecord):
        event.delete()
    with pytest.raises(ImmutableRecord):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(ImmutableRecord):
        AuditEvent.objects.all().delete()


def test_portal_account_of_patient_a_cannot_reach_patient_b(patient, other_patient, client):
    client.force_login(patient.portal_user)
    assert client.get(f"/patients/{other_patient.public_id}/").status_code in {302, 403, 404}
    assert client.get(f"/api/v1/patients/{other_patient.public_id}").status_code in {401, 403, 404}
    assert client.get("/api/v1/patients/").status_code in {401, 403}
    page = client.get("/portal/").content.decode()
    assert "Pat" in page and "Otto" not in page and other_patient.mrn not in page


def test_staff_of_another_clinic_get_404_not_the_record(physician_b, patient, bearer, client, login_as):
    assert client.get(f"/api/v1/patients/{patient.public_id}", **bearer(physician_b)).status_code == 404
    login_as(physician_b)
    assert client.get(f"/patients/{patient.public_id}/").status_code == 404
    listing = client.get("/api/v1/patients/", **bearer(physician_b)).json()
    assert listing == []


def test_front_desk_sees_demographics_but_not_clinical_details(front_desk, patient, bearer, client):
    from triggerpoint.patients.models import Allergy

    Allergy.objects.create(clinic=patient.clinic, patient=patient, substance="Lidocaine", severity="severe")
    data = client.get(f"/api/v1/patients/{patient.public_id}", **bearer(front_desk)).json()
    assert data["family_name"] == "Portalowner"
    assert data["allergies"] is None


def test_create_search_read_update_round_trip(nurse, bearer, client):
    headers = bearer(nurse)
    created = _json(client, "post", "/api/v1/patients/", {
        "mrn": "A-9001", "given_name": "Rita", "family_name": "Roundtrip", "date_of_birth": "1975-03-02",
        "sex": "female", "weight_kg": "64.5", "weight_measured_on": "2026-11-20", "preferred_language": "es"}, headers)
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert [p["id"] for p in client.get("/api/v1/patients/?q=roundtrip", **headers).json()] == [pid]
    updated = _json(client, "patch", f"/api/v1/patients/{pid}", {"version": 1, "phone": "(555) 123-0000"}, headers)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert AuditEvent.objects.filter(action="patients.patient.updated", object_id=pid).count() == 1


@pytest.mark.parametrize(
    "body, status",
    [
        ("{broken json", 400),
        ({"mrn": "X", "given_name": "A", "family_name": "B", "date_of_birth": "not-a-date"}, 422),
        ({"mrn": "X", "given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "weight_kg": -3}, 422),
        ({"mrn": "X", "given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "sex": "robot"}, 422),
        ({"given_name": "A"}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_bad_input_gets_a_json_4xx_and_writes_nothing(nurse, bearer, client, body, status):
    before = Patient.all_objects.count()
    response = _json(client, "post", "/api/v1/patients/", body, bearer(nurse))
    assert response.status_code == status
    assert "detail" in response.json()
    assert Patient.all_objects.count() == before


def test_duplicate_mrn_in_the_same_clinic_is_a_409(nurse, patient, bearer, client):
    body = {"mrn": patient.mrn, "given_name": "Dup", "family_name": "Licate", "date_of_birth": "1990-01-01"}
    assert _json(client, "post", "/api/v1/patients/", body, bearer(nurse)).status_code == 409


def test_the_same_mrn_is_fine_in_another_clinic(physician_b, patient, bearer, client):
    body = {"mrn": patient.mrn, "given_name": "Same", "family_name": "Number", "date_of_birth": "1990-01-01"}
    assert _json(client, "post", "/api/v1/patients/", body, bearer(physician_b)).status_code == 201


def test_unknown_ids_are_404_json(nurse, bearer, client):
    headers = bearer(nurse)
    assert client.get(f"/api/v1/patients/{uuid.uuid4()}", **headers).status_code == 404
    assert client.get("/api/v1/patients/not-a-uuid", **headers).status_code in {404, 422}


def test_a_stale_version_is_refused_with_409_and_changes_nothing(nurse, patient, bearer, client):
    headers = bearer(nurse)
    first = _json(client, "patch", f"/api/v1/patients/{patient.public_id}", {"version": 1, "phone": "111"}, headers)
    assert first.status_code == 200
    stale = _json(client, "patch", f"/api/v1/patients/{patient.public_id}", {"version": 1, "phone": "222"}, headers)
    assert stale.status_code == 409
    patient.refresh_from_db()
    assert patient.phone == "111" and patient.version == 2


def test_concurrent_edits_through_the_service_cannot_overwrite_silently(nurse, patient):
    from triggerpoint.patients import services

    a = Patient.objects.get(pk=patient.pk)
    b = Patient.objects.get(pk=patient.pk)
    services.update_patient(nurse, a, a.version, {"phone": "from A"})
    with pytest.raises(StaleVersion):
        services.update_patient(nurse, b, b.version, {"phone": "from B"})


def test_clinical_records_are_never_hard_deleted(patient):
    with pytest.raises(HardDeleteRefused):
        patient.delete()
    with pytest.raises(HardDeleteRefused):
        Patient.objects.all().delete()
    patient.soft_delete()
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert Patient.all_objects.filter(pk=patient.pk).exists()


def test_openapi_schema_is_published(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/patients/" in schema["paths"]
    assert "/api/v1/auth/token" in schema["paths"]


def test_the_chart_loads_its_timeline_separately_and_audits_that_read(physician, patient, login_as, client):
    login_as(physician)
    chart = client.get(f"/patients/{patient.public_id}/").content.decode()
    assert f"/patients/{patient.public_id}/timeline/" in chart
    response = client.get(f"/patients/{patient.public_id}/timeline/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "No visits, procedures or check-ins yet." in html
    assert "<html" not in html  # a fragment for the chart
    assert AuditEvent.objects.filter(patient=patient, action="patients.timeline.viewed").count() == 1


def test_the_timeline_link_without_script_opens_a_whole_page(physician, patient, login_as, client):
    login_as(physician)
    html = client.get(f"/patients/{patient.public_id}/timeline/?all=1").content.decode()
    assert "<title>Timeline · Portalowner, Pat" in html and 'lang="' in html
    assert "No visits, procedures or check-ins yet." in html


def test_front_desk_cannot_read_the_clinical_timeline(front_desk, patient, login_as, client):
    login_as(front_desk)
    assert client.get(f"/patients/{patient.public_id}/timeline/").status_code == 403
