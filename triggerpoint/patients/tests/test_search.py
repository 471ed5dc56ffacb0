"""Front-desk search: name (accents, "last, first"), date of birth formats, phone digits, partial MRN."""

from __future__ import annotations

from datetime import date

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_patient
from triggerpoint.patients import search


def test_dates_of_birth_in_the_usual_formats_slashes_are_us_order():
    born = date(1980, 5, 17)
    assert search.parse_birth_date("1980-05-17") == born
    assert search.parse_birth_date("05/17/1980") == born
    assert search.parse_birth_date("17.05.1980") == born
    assert search.parse_birth_date("17/05/1980") is None  # month 17: not a date in US order
    assert search.parse_birth_date("5/7/80") is None  # two-digit year refused


@pytest.fixture
def garcias(clinic_a, clinic_b):
    return {
        "jose": make_patient(clinic_a, "RIV-100037", "José", "García", date_of_birth=date(1980, 5, 17),
                             phone="(555) 010-2345"),
        "ana": make_patient(clinic_a, "RIV-100074", "Ana", "Garcia", date_of_birth=date(1990, 1, 2), phone="555.010.9999"),
        "luis": make_patient(clinic_a, "RIV-200111", "Luis", "Garcia Lopez", date_of_birth=date(1975, 12, 1)),
        "other_clinic": make_patient(clinic_b, "HIL-100037", "Jose", "Garcia", date_of_birth=date(1980, 5, 17),
                                     phone="5550102345"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ("garcia", {"jose", "ana", "luis"}),
    ("GARCÍA", {"jose", "ana", "luis"}),
    ("garcia, jose", {"jose"}),
    ("Garcia,ana", {"ana"}),
    ("jose gar", {"jose"}),
    ("1980-05-17", {"jose"}),
    ("05/17/1980", {"jose"}),
    ("17.05.1980", {"jose"}),
    ("555-010-2345", {"jose"}),
    ("+1 555 010 2345", {"jose"}),
    ("5550109999", {"ana"}),
    ("010-9999", {"ana"}),  # the number without its area code
    ("555 010 99", {"ana"}),  # a run of digits inside the number
    ("0037", {"jose"}),
    ("riv-1000", {"jose", "ana"}),
    ("nobody", set()),
])
def test_search_finds_by_name_dob_phone_and_partial_mrn_in_the_own_clinic_only(front_desk, garcias, query, expected):
    found = search.find_patients(front_desk, query)
    names = {key for key, p in garcias.items() if p in found}
    assert names == expected


@pytest.mark.django_db
def test_results_page_shows_dob_mrn_and_last_visit_and_audits_each_patient(client, front_desk, physician, login_as,
                                                                           garcias):
    from triggerpoint.assessment.models import Visit

    jose = garcias["jose"]
    for day in (date(2026, 10, 1), date(2026, 11, 20)):
        Visit.objects.create(clinic=jose.clinic, patient=jose, clinician=physician, visit_date=day)
    login_as(front_desk)
    html = client.get("/patients/", {"q": "garcia"}).content.decode()
    for key in ("jose", "ana", "luis"):
        p = garcias[key]
        assert p.mrn in html and p.date_of_birth.isoformat() in html
    assert "Last visit" in html and "2026-11-20" in html and "2026-10-01" not in html
    shown = set(AuditEvent.objects.filter(action="patients.patient.searched").values_list("patient_id", flat=True))
    assert shown == {garcias[k].pk for k in ("jose", "ana", "luis")}


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ("05/17/1980", {"jose"}),
    ("(555) 010 9999", {"ana"}),
    ("garcía, josé", {"jose"}),
    ("0037", {"jose"}),
])
def test_the_api_list_searches_like_the_front_desk_box(client, bearer, front_desk, physician, garcias, query,
                                                        expected):
    """One search for the page and the API: an EHR integration finds a patient by DOB or phone too."""
    from triggerpoint.assessment.models import Visit

    jose = garcias["jose"]
    Visit.objects.create(clinic=jose.clinic, patient=jose, clinician=physician, visit_date=date(2026, 11, 20))
    response = client.get("/api/v1/patients/", {"q": query}, **bearer(front_desk))
    assert response.status_code == 200
    rows = response.json()
    assert {key for key, p in garcias.items() if str(p.public_id) in {r["id"] for r in rows}} == expected
    if "jose" in expected:
        assert next(r for r in rows if r["id"] == str(jose.public_id))["last_visit"] == "2026-11-20"
    shown = set(AuditEvent.objects.filter(action="patients.patient.searched").values_list("patient_id", flat=True))
    assert shown == {garcias[k].pk for k in expected}


@pytest.mark.django_db
def test_the_last_visit_counts_signed_procedures_too_and_only_for_the_results(front_desk, physician, garcias):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from triggerpoint.assessment.models import Visit
    from triggerpoint.outcomes.tests.factories import signed_procedure

    jose, ana = garcias["jose"], garcias["ana"]
    Visit.objects.create(clinic=jose.clinic, patient=jose, clinician=physician, visit_date=date(2026, 10, 1))
    signed_procedure(jose, physician, date(2026, 11, 2), schedule=False)
    Visit.objects.create(clinic=ana.clinic, patient=ana, clinician=physician, visit_date=date(2026, 11, 5))
    search.find_patients(front_desk, "nobody")  # warm the user's roles and the audit chain head
    with CaptureQueriesContext(connection) as three:
        found = {p.pk: p.last_visit for p in search.find_patients(front_desk, "garcia")}
    assert found[jose.pk] == date(2026, 11, 2) and found[ana.pk] == date(2026, 11, 5)
    assert found[garcias["luis"].pk] is None
    with CaptureQueriesContext(connection) as one:
        assert len(search.find_patients(front_desk, "garcia, ana")) == 1
    assert len(three.captured_queries) == len(one.captured_queries)  # one query per provider, not per patient


@pytest.mark.django_db
def test_the_folded_search_key_follows_every_name_change(front_desk, clinic_a):
    from triggerpoint.patients import services
    from triggerpoint.patients.models import Patient

    patient = make_patient(clinic_a, "RIV-100900", "Zoë", "Groß-Ibáñez", date_of_birth=date(1970, 3, 3))
    assert Patient.objects.get(pk=patient.pk).search_name == "gross ibanez zoe"
    services.update_patient(front_desk, patient, patient.version, {"family_name": "Núñez"})  # a versioned update
    assert Patient.objects.get(pk=patient.pk).search_name == "nunez zoe"
    assert {p.pk for p in search.find_patients(front_desk, "nunez")} == {patient.pk}
    assert search.find_patients(front_desk, "ibanez") == []
    assert {p.pk for p in search.find_patients(front_desk, "zoe, -")} == set()  # "last, first": Zoë is the given name


@pytest.mark.django_db
def test_the_stored_phone_digits_follow_every_phone_change_and_the_search_uses_them(front_desk, clinic_a):
    from triggerpoint.patients import services
    from triggerpoint.patients.models import Patient

    patient = make_patient(clinic_a, "RIV-100901", "Ana", "Ruiz", date_of_birth=date(1971, 4, 4), phone="+1 (555) 010-4444")
    assert Patient.objects.get(pk=patient.pk).phone_digits == "5550104444"
    services.update_patient(front_desk, patient, patient.version, {"phone": "555.020.7777"})  # a versioned update
    assert Patient.objects.get(pk=patient.pk).phone_digits == "5550207777"
    assert {p.pk for p in search.find_patients(front_desk, "(555) 020-7777")} == {patient.pk}
    assert search.find_patients(front_desk, "555-010-4444") == []
    patient = Patient.objects.get(pk=patient.pk)
    patient.phone = ""
    patient.save(update_fields=["phone"])  # a plain save with update_fields keeps the key too
    assert Patient.objects.get(pk=patient.pk).phone_digits == ""
