"""Every page that shows a patient leaves an event naming that patient; refused record accesses are audited.

ONC 170.315(d)(2)/(d)(3): the trail records each patient whose data was shown,
and attempts to reach records the user may not see, with the id they asked for.
"""

from __future__ import annotations

import uuid

import pytest

from triggerpoint.audit import services as audit
from triggerpoint.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


# ---------------------------------------------------------------- pages that showed patients without an event


def test_the_patient_edit_page_is_audited_as_a_read_of_that_patient(physician, patient, login_as, client):
    login_as(physician)
    assert client.get(f"/patients/{patient.public_id}/edit/").status_code == 200
    event = _events("patients.patient.viewed", patient=patient).get()
    assert event.details == {"channel": "edit"} and event.actor == physician


@pytest.mark.parametrize("kind", ["allergy", "medication"])
def test_the_add_allergy_and_add_medication_forms_are_audited(kind, physician, patient, login_as, client):
    login_as(physician)
    assert client.get(f"/patients/{patient.public_id}/add/{kind}/").status_code == 200
    assert _events("patients.patient.viewed", patient=patient).get().details == {"channel": f"add_{kind}"}


def test_search_results_leave_one_event_per_patient_shown_in_one_insert(
    physician, patient, other_patient, patient_in_b, login_as, client
):
    login_as(physician)
    response = client.get("/patients/", {"q": ""})
    assert response.status_code == 200
    listed = _events("patients.patient.listed")
    assert {e.patient_id for e in listed} == {patient.pk, other_patient.pk}  # not clinic B's patient
    assert {e.object_id for e in listed} == {str(patient.public_id), str(other_patient.public_id)}
    assert len({e.request_id for e in listed}) == 1


def test_the_audit_page_is_itself_audited_for_each_patient_it_lists(clinic_admin, patient, other_patient, login_as, client):
    audit.record("patients.patient.viewed", obj=patient)
    audit.record("patients.patient.viewed", obj=other_patient)
    audit.record("patients.patient.viewed", obj=patient)
    login_as(clinic_admin)
    assert client.get("/audit/").status_code == 200
    listed = _events("patients.patient.listed", details__via="audit_log")
    assert sorted(e.patient_id for e in listed) == sorted([patient.pk, other_patient.pk])
    assert all(e.actor == clinic_admin for e in listed)


def test_batched_views_are_one_insert_and_skip_duplicates(physician, patient, other_patient, django_assert_num_queries):
    # Lock the chain head, insert the batch, advance the head; one INSERT for any number of patients.
    audit.record("shell.worklist.viewed", clinic=patient.clinic)  # the chain head exists, as it does after the first event
    with django_assert_num_queries(3) as captured:
        events = audit.record_patient_views("patients.patient.listed", [patient, other_patient, patient])
    assert sum("INSERT" in q["sql"] for q in captured.captured_queries) == 1
    assert [e.patient_id for e in events] == [patient.pk, other_patient.pk]
    assert audit.record_patient_views("patients.patient.listed", []) == []


# ---------------------------------------------------------------- refused accesses


def test_a_cross_clinic_chart_request_is_refused_and_audited_with_the_requested_id(
    physician, patient_in_b, login_as, client
):
    login_as(physician)
    assert client.get(f"/patients/{patient_in_b.public_id}/").status_code == 404
    event = _events("audit.access.refused").get()
    assert event.object_id == str(patient_in_b.public_id)
    assert event.clinic_id == physician.clinic_id and event.patient_id is None  # not filed as a read of B's patient
    assert event.details == {"requested_action": "patient.view", "outcome": "out_of_scope", "status": 404}
    assert event.actor == physician


def test_an_unknown_id_is_refused_and_audited_on_the_page_and_the_api(physician, login_as, bearer, client):
    unknown = uuid.uuid4()
    login_as(physician)
    assert client.get(f"/patients/{unknown}/edit/").status_code == 404
    assert client.get(f"/api/v1/patients/{unknown}", **bearer(physician)).status_code == 404
    events = list(_events("audit.access.refused").order_by("id"))
    assert [e.object_id for e in events] == [str(unknown), str(unknown)]
    assert {e.details["outcome"] for e in events} == {"not_found"}


def test_a_cross_clinic_api_request_is_audited(physician, patient_in_b, bearer, client):
    assert client.get(f"/api/v1/patients/{patient_in_b.public_id}", **bearer(physician)).status_code == 404
    assert _events("audit.access.refused").get().object_id == str(patient_in_b.public_id)


def test_a_role_refused_at_a_record_route_is_audited_with_the_id(front_desk, patient, login_as, client):
    login_as(front_desk)
    assert client.get(f"/patients/{patient.public_id}/timeline/").status_code == 403
    event = _events("audit.access.refused").get()
    assert (event.object_id, event.details["outcome"], event.details["status"]) == (
        str(patient.public_id), "forbidden", 403)


def test_a_portal_patient_reaching_for_another_patient_is_audited(patient, other_patient, client):
    client.force_login(patient.portal_user)
    client.get(f"/api/v1/patients/{other_patient.public_id}")
    client.get(f"/patients/{other_patient.public_id}/")
    # The page refuses portal accounts at the door (no id lookup); the API looks the id up and refuses it.
    refused = _events("audit.access.refused", object_id=str(other_patient.public_id))
    assert refused.exists()
    assert all(e.actor == patient.portal_user for e in refused)


def test_a_permitted_read_leaves_no_refusal(physician, patient, login_as, client):
    login_as(physician)
    assert client.get(f"/patients/{patient.public_id}/").status_code == 200
    assert not _events("audit.access.refused").exists()
