"""Issue 14: "no known drug allergies" is a recorded fact, distinct from never asked (chart, API, services)."""

from __future__ import annotations

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.patients import services
from triggerpoint.patients.models import Allergy, Patient


def test_a_new_patient_has_an_unknown_allergy_status(patient):
    assert patient.allergy_status == "unknown"


def test_recording_nkda_sets_the_status_and_audits_it(physician, patient):
    with acting_as(physician):
        services.record_no_known_allergies(physician, patient)
    assert Patient.objects.get(pk=patient.pk).allergy_status == "nkda"
    event = AuditEvent.objects.get(action="patients.allergy_status.recorded", patient=patient)
    assert event.details == {"before": "unknown", "after": "nkda"}


def test_nkda_is_refused_while_an_active_allergy_exists_and_nothing_changes(physician, patient):
    with acting_as(physician):
        services.add_allergy(physician, patient, "Latex")
        with pytest.raises(services.AllergyStatusConflict, match="Latex"):
            services.record_no_known_allergies(physician, patient)
    assert Patient.objects.get(pk=patient.pk).allergy_status == "has_allergies"


def test_recording_an_allergy_after_nkda_makes_it_has_allergies(physician, patient):
    with acting_as(physician):
        services.record_no_known_allergies(physician, patient)
        services.add_allergy(physician, patient, "Penicillin")
    assert Patient.objects.get(pk=patient.pk).allergy_status == "has_allergies"


def test_nkda_after_the_allergy_was_removed_is_allowed(physician, patient):
    with acting_as(physician):
        allergy = services.add_allergy(physician, patient, "Latex")
        Allergy.objects.get(pk=allergy.pk).soft_delete()
        services.record_no_known_allergies(physician, patient)
    assert Patient.objects.get(pk=patient.pk).allergy_status == "nkda"


def test_the_chart_says_not_recorded_until_someone_asks_then_says_nkda(login_as, nurse, patient, client):
    login_as(nurse)
    chart = f"/patients/{patient.public_id}/"
    html = client.get(chart).content.decode()
    assert "not recorded — ask the patient" in html
    assert "Allergy status: <strong>Not recorded (never asked)</strong>" in html
    assert html.count("Allergy status:") == 1  # on the allergy card only
    assert "Record: no known drug allergies" in html
    response = client.post(f"{chart}add/nkda/")
    assert response.status_code == 302
    html = client.get(chart).content.decode()
    assert "no known drug allergies (recorded)" in html
    assert "Allergy status: <strong>No known drug allergies</strong>" in html
    assert "Record: no known drug allergies" not in html


def test_the_chart_refuses_nkda_when_allergies_are_listed(login_as, nurse, patient, client):
    with acting_as(nurse):
        services.add_allergy(nurse, patient, "Latex")
    login_as(nurse)
    response = client.post(f"/patients/{patient.public_id}/add/nkda/", follow=True)
    assert "Not saved" in response.content.decode() and "Latex" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).allergy_status == "has_allergies"


def test_nkda_by_get_is_not_allowed(login_as, nurse, patient, client):
    login_as(nurse)
    assert client.get(f"/patients/{patient.public_id}/add/nkda/").status_code == 405
    assert Patient.objects.get(pk=patient.pk).allergy_status == "unknown"


def test_the_api_says_the_status_to_clinical_staff_only(nurse, front_desk, patient, bearer, client):
    url = f"/api/v1/patients/{patient.public_id}"
    assert client.get(url, **bearer(nurse)).json()["allergy_status"] == "unknown"
    assert client.get(url, **bearer(front_desk)).json()["allergy_status"] is None
    Patient.objects.filter(pk=patient.pk).update(allergy_status="nkda")
    assert client.get(url, **bearer(nurse)).json()["allergy_status"] == "nkda"
