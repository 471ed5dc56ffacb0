"""Every demo patient reads and updates through the API, for every role that may, the portal too.

`GET /api/v1/patients/{id}` was a 500 for every patient with a risk factor (24 of the 40 demo
patients), and `PATCH` saved and then answered 500, so a client's retry met a 409.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def demo(db):
    from triggerpoint.shell.demo_clinic import build_demo

    return build_demo(patients=40, seed=7)


def _bearer(user):
    from triggerpoint.accounts.models import ApiToken

    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_every_riverside_patient_reads_for_every_staff_role_with_risk_factors_only_for_clinicians(client, demo):
    riverside = [p for p in demo.patients if p.clinic_id == demo.clinics[0].pk]
    with_risks = [p for p in riverside if p.risk_factors.exists()]
    assert len(with_risks) >= 10  # the demo clinic has risk factors to show
    for username, sees_clinical in (("dr.rivera", True), ("nurse.okafor", True), ("desk.lopez", False)):
        headers = _bearer(demo.staff[username])
        for patient in riverside:
            response = client.get(f"/api/v1/patients/{patient.public_id}", **headers)
            assert response.status_code == 200, (username, patient.mrn, response.content[:300])
            body = response.json()
            expected = sorted(patient.risk_factors.values_list("kind", flat=True)) if sees_clinical else None
            assert (sorted(body["risk_factors"]) if body["risk_factors"] is not None else None) == expected


def test_the_portal_patient_with_a_risk_factor_reads_their_own_record(client, demo):
    from triggerpoint.patients.models import RiskFactor

    own = demo.portal_patient
    RiskFactor.objects.get_or_create(clinic=own.clinic, patient=own, kind="diabetes")
    client.force_login(own.portal_user)
    response = client.get(f"/api/v1/patients/{own.public_id}")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["mrn"] == own.mrn
    assert response.json()["risk_factors"] is None  # the clinical lists are for clinicians (policy.py)


def test_patching_a_patient_with_risk_factors_saves_once_and_answers_200(client, demo):
    patient = next(p for p in demo.patients if p.clinic_id == demo.clinics[0].pk and p.risk_factors.exists())
    headers = _bearer(demo.staff["desk.lopez"])
    response = client.patch(f"/api/v1/patients/{patient.public_id}",
                            data=json.dumps({"version": patient.version, "phone": "(555) 010-7777"}),
                            content_type="application/json", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["version"] == patient.version + 1
    patient.refresh_from_db()
    assert patient.phone == "(555) 010-7777"
