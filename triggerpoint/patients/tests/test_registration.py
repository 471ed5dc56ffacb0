"""Front-desk registration: generated MRNs, likely duplicates before a chart is created (page and API)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_patient
from triggerpoint.patients import folding, registration
from triggerpoint.patients.models import Patient

NEW = {"given_name": "Mara", "family_name": "Quinn", "date_of_birth": "1975-03-02", "sex": "female"}


def _post_api(client, headers, body):
    return client.post("/api/v1/patients/", data=json.dumps(body), content_type="application/json", **headers)


# ---------------------------------------------------------------- normalisation


def test_names_compare_without_accents_case_punctuation_or_order():
    assert folding.name_key("José", "García-López") == folding.name_key("LOPEZ GARCIA,", "jose")
    assert folding.phone_digits("+1 (555) 010-2345") == folding.phone_digits("555.010.2345") == "5550102345"


# ---------------------------------------------------------------- MRN


@pytest.mark.django_db
def test_generated_mrns_follow_the_clinic_prefix_and_width_and_skip_a_number_typed_by_hand(clinic_a, front_desk):
    clinic_a.mrn_prefix, clinic_a.mrn_width = "RIV-", 5
    clinic_a.save()
    make_patient(clinic_a, "RIV-00041")  # the highest existing number seeds the counter
    first = registration.register_patient(front_desk, clinic_a, {**NEW, "date_of_birth": date(1975, 3, 2)})
    assert first.mrn == "RIV-00042"
    make_patient(clinic_a, "RIV-00043", "Imported", "Elsewhere", date_of_birth=date(1950, 1, 1))  # typed by hand
    second = registration.register_patient(front_desk, clinic_a, {"given_name": "Ned", "family_name": "Ode",
                                                                  "date_of_birth": date(1960, 1, 1)})
    assert second.mrn == "RIV-00044"
    typed = registration.register_patient(front_desk, clinic_a, {"mrn": "EXT-9", "given_name": "Ivo", "family_name": "Imp",
                                                                 "date_of_birth": date(1961, 1, 1)})
    assert typed.mrn == "EXT-9"
    created = AuditEvent.objects.filter(action="patients.patient.created").count()
    assert created == 3


@pytest.mark.django_db
def test_the_page_registers_without_an_mrn(client, front_desk, login_as):
    login_as(front_desk)
    response = client.post("/patients/new/", {**NEW, "preferred_language": "en"})
    assert response.status_code == 302, response.content.decode()[:2000]
    patient = Patient.objects.get(family_name="Quinn")
    assert patient.mrn.endswith("000001")


@pytest.mark.django_db
def test_the_api_registers_without_an_mrn(client, front_desk, bearer):
    response = _post_api(client, bearer(front_desk), NEW)
    assert response.status_code == 201, response.content
    assert response.json()["mrn"] == Patient.objects.get(family_name="Quinn").mrn


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the test database on SQLite is in memory, one connection; SQLite's IMMEDIATE "
                           "transactions serialise writers anyway")
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_consecutive_mrns(clinic_a, front_desk):
    """Twelve threads, each with its own connection, register at the same moment on a fresh counter."""
    import threading

    from django.db import connections

    clinic_a.mrn_prefix = "RC-"
    clinic_a.save()
    errors, mrns = [], []
    start = threading.Barrier(12)

    def register(n):
        try:
            start.wait()
            for k in range(3):
                p = registration.register_patient(front_desk, clinic_a, {
                    "given_name": f"Thread{n}", "family_name": f"Racer{k}x{n}", "date_of_birth": date(1970 + n, 1, 1 + k)})
                mrns.append(p.mrn)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(mrns) == [f"RC-{n:06d}" for n in range(1, 37)]


# ---------------------------------------------------------------- duplicates


@pytest.mark.django_db
def test_likely_duplicates_by_dob_and_folded_name_phone_or_email(clinic_a, clinic_b, front_desk):
    same = make_patient(clinic_a, "A-1", "José", "García", date_of_birth=date(1980, 5, 17), phone="", email="")
    phone = make_patient(clinic_a, "A-2", "Other", "Person", date_of_birth=date(1990, 1, 1), phone="(555) 010-7777")
    mail = make_patient(clinic_a, "A-3", "Mail", "Match", date_of_birth=date(1991, 1, 1), email="X@Example.org")
    make_patient(clinic_a, "A-4", "Jose", "Garcia", date_of_birth=date(1981, 5, 17))  # another DOB
    make_patient(clinic_b, "B-1", "Jose", "Garcia", date_of_birth=date(1980, 5, 17))  # another clinic
    found = registration.find_likely_duplicates(clinic_a, {
        "given_name": "GARCIA,", "family_name": "jose", "date_of_birth": date(1980, 5, 17),
        "phone": "555-010-7777", "email": "x@example.org"})
    assert {c.patient.pk: c.reasons for c in found} == {
        same.pk: ["date of birth and name"], phone.pk: ["phone"], mail.pk: ["email"]}
    assert registration.find_likely_duplicates(clinic_a, {"given_name": "Anna", "family_name": "Garcia",
                                                          "date_of_birth": date(1980, 5, 17)}) == []


@pytest.mark.django_db
def test_api_answers_409_with_candidates_then_creates_when_confirmed(client, clinic_a, front_desk, bearer):
    existing = make_patient(clinic_a, "A-7", "Mara", "Quinn", date_of_birth=date(1975, 3, 2))
    token = bearer(front_desk)
    refused = _post_api(client, token, {**NEW, "given_name": "Quinn", "family_name": "Mára"})
    assert refused.status_code == 409
    body = refused.json()
    assert isinstance(body["detail"], str)
    assert body["candidates"] == [{"id": str(existing.public_id), "reasons": ["date of birth and name"], "mrn": "A-7",
                                   "given_name": "Mara", "family_name": "Quinn", "date_of_birth": "1975-03-02"}]
    assert Patient.objects.count() == 1
    shown = AuditEvent.objects.get(action="patients.duplicate.shown")
    assert shown.patient_id == existing.pk
    created = _post_api(client, token, {**NEW, "confirm_not_duplicate": True})
    assert created.status_code == 201
    dismissed = AuditEvent.objects.get(action="patients.duplicate.dismissed")
    assert dismissed.details["candidates"] == [str(existing.public_id)]
    assert str(dismissed.patient.public_id) == created.json()["id"]


@pytest.mark.django_db
def test_page_warns_of_a_likely_duplicate_and_creates_after_this_is_a_different_person(client, clinic_a, front_desk,
                                                                                       login_as):
    existing = make_patient(clinic_a, "A-7", "Mara", "Quinn", date_of_birth=date(1975, 3, 2), phone="555 010 1212")
    login_as(front_desk)
    form = {"given_name": "Maria", "family_name": "Doe", "date_of_birth": "1960-01-01", "phone": "(555) 010-1212",
            "sex": "female", "preferred_language": "en"}
    warned = client.post("/patients/new/", form)
    assert warned.status_code == 200
    html = warned.content.decode()
    assert "This may be a patient you already have" in html and f"/patients/{existing.public_id}/" in html
    assert Patient.objects.count() == 1
    created = client.post("/patients/new/", {**form, "confirm_not_duplicate": "on"})
    assert created.status_code == 302
    assert Patient.objects.count() == 2
    assert AuditEvent.objects.filter(action="patients.duplicate.dismissed").count() == 1


@pytest.mark.django_db
def test_openapi_documents_the_duplicate_conflict(client):
    # The 409 body's schema is the generic ApiError (core/api_errors.document_error_responses shadows the declared
    # LikelyDuplicateConflict: Ninja keys it 409, the contract "409"); the candidates are documented in words.
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/patients/"]["post"]
    assert "409" in operation["responses"] and "candidates" in operation["description"]
    body = schema["components"]["schemas"]["PatientIn"]
    assert "confirm_not_duplicate" in body["properties"] and "mrn" not in body.get("required", [])
    assert "409" in body["properties"]["confirm_not_duplicate"]["description"]
