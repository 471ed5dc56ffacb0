"""Lists audit each patient they show: the patient list API, the search page and the worklist.

One event per patient shown, written with one INSERT per response, so a patient's own audit
trail answers "who saw my name on a list" without a count to interpret.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from triggerpoint.audit import services as audit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_patient

pytestmark = pytest.mark.django_db


def _audit_inserts(captured, action: str) -> int:
    """INSERT statements into the audit table that carry `action` as a whole value ('w.x.y' does not count as 'x.y').

    PostgreSQL's bulk insert sends arrays ('{"x.y","x.y"}'), SQLite a VALUES list ('x.y'): match the value itself.
    """
    table = AuditEvent._meta.db_table
    value = re.compile(r"(?<![\w.])" + re.escape(action) + r"(?![\w.])")
    return sum(
        1 for q in captured.captured_queries
        if q["sql"].upper().startswith("INSERT") and table in q["sql"] and value.search(q["sql"])
    )


@pytest.fixture
def five_patients(clinic_a, patient):
    """The `patient` fixture (Portalowner) plus four more, alphabetical by family name: Adams…Dunn, Portalowner."""
    return [make_patient(clinic_a, f"L-{i}", "Lee", family) for i, family in enumerate(["Adams", "Baker", "Cole", "Dunn"])] + [patient]


def test_the_list_api_audits_each_patient_returned_in_one_insert(physician, five_patients, patient_in_b, bearer, client):
    headers = bearer(physician)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/patients/?limit=50", **headers)
    assert response.status_code == 200
    returned = [row["id"] for row in response.json()]
    assert len(returned) == 5
    assert _audit_inserts(captured, "patients.patient.searched") == 1
    events = list(AuditEvent.objects.filter(action="patients.patient.searched").select_related("patient"))
    assert sorted(str(e.patient.public_id) for e in events) == sorted(returned)
    assert all(e.patient.clinic_id != patient_in_b.clinic_id for e in events)
    assert {(e.actor_id, e.clinic_id, e.details["channel"], e.details["results"]) for e in events} == {
        (physician.pk, physician.clinic_id, "api", 5)
    }
    assert len({e.request_id for e in events}) == 1 and events[0].request_id


def test_the_list_api_audits_only_the_patients_within_the_limit(physician, five_patients, bearer, client):
    response = client.get("/api/v1/patients/?limit=2", **bearer(physician))
    assert [row["family_name"] for row in response.json()] == ["Adams", "Baker"]
    audited = AuditEvent.objects.filter(action="patients.patient.searched").values_list("patient__family_name", flat=True)
    assert sorted(audited) == ["Adams", "Baker"]


def test_the_search_page_audits_each_match_and_not_the_others(physician, five_patients, login_as, client):
    login_as(physician)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/patients/?q=lee")
    assert response.status_code == 200
    assert _audit_inserts(captured, "patients.patient.searched") == 1
    audited = AuditEvent.objects.filter(action="patients.patient.searched").values_list("patient__family_name", flat=True)
    assert sorted(audited) == ["Adams", "Baker", "Cole", "Dunn"]
    assert AuditEvent.objects.filter(action="patients.patient.searched").first().details["channel"] == "ui"


def test_a_search_that_finds_nobody_still_leaves_one_event(physician, patient, login_as, client):
    login_as(physician)
    assert client.get("/patients/?q=nobody-by-this-name").status_code == 200
    [event] = AuditEvent.objects.filter(action="patients.patient.searched")
    assert event.patient is None and event.details["results"] == 0 and event.details["query_length"] == 19


def test_the_worklist_audits_every_patient_it_names(physician, physician_b, patient, other_patient, patient_in_b,
                                                     login_as, client):
    from triggerpoint.assessment.tests.factories import draft_visit

    draft_visit(physician, patient)  # listed under "Assessment visits to finish and sign"
    draft_visit(physician_b, patient_in_b)  # another clinic's draft: not shown, not audited
    login_as(physician)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/worklist/")
    assert response.status_code == 200
    assert "Assessment visits to finish and sign" in response.content.decode()
    assert _audit_inserts(captured, "shell.worklist.viewed") == 1
    events = AuditEvent.objects.filter(action="shell.worklist.viewed")
    # Both clinic-A patients are in "recently updated"; the draft's patient is named once, not twice.
    assert sorted(events.values_list("patient_id", flat=True)) == sorted([patient.pk, other_patient.pk])
    assert {e.details["patients_listed"] for e in events} == {2}


def test_record_patient_views_names_each_patient_once_and_skips_an_empty_list(clinic_a, patient, other_patient):
    written = audit.record_patient_views("patients.patient.searched", [patient, other_patient.pk, patient], clinic=clinic_a)
    assert [e.patient_id for e in written] == [patient.pk, other_patient.pk]
    assert audit.record_patient_views("patients.patient.searched", [], clinic=clinic_a) == []
    assert AuditEvent.objects.count() == 2
