"""The audit log answers "who opened this chart last week": patient, user, action family, local dates, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.contrib.auth.models import Group

from triggerpoint.audit import services as audit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff

pytestmark = pytest.mark.django_db


def _rows(response):
    """(actor, action, MRN) of each event shown on the log page, leaving out the log's own reads."""
    return [(e.actor_label, e.action, e.patient.mrn if e.patient else "") for e in response.context["page"]
            if e.details.get("via") != "audit_log"]


@pytest.fixture
def trail(clinic_a, clinic_b, physician, nurse, patient, other_patient, patient_in_b, physician_b):
    audit.record("patients.patient.viewed", obj=patient, actor=physician)
    audit.record("patients.patient.viewed", obj=other_patient, actor=nurse)
    audit.record("patients.patient.updated", obj=patient, actor=nurse)
    audit.record("patients.patient.viewed", obj=patient_in_b, actor=physician_b)
    # A pre-2026-12 event under its legacy name: the family search still finds it.
    audit.record("accounts.session.signed_in", actor=nurse, clinic=clinic_a)
    return patient


def test_filter_by_patient_mrn_name_and_last_first(trail, patient, clinic_admin, login_as, client):
    login_as(clinic_admin)
    by_mrn = _rows(client.get("/audit/", {"patient": patient.mrn}))
    assert {r[2] for r in by_mrn} == {patient.mrn} and len(by_mrn) == 2
    by_name = _rows(client.get("/audit/", {"patient": f"{patient.family_name}, {patient.given_name}"}))
    assert by_name == by_mrn
    by_chart = _rows(client.get("/audit/", {"patient_id": str(patient.public_id)}))
    assert by_chart == by_mrn


def test_filter_by_user_and_action_family(trail, clinic_admin, login_as, client):
    login_as(clinic_admin)
    assert {r[0] for r in _rows(client.get("/audit/", {"user": "nina.nurse"}))} == {"nina.nurse"}
    viewed = _rows(client.get("/audit/", {"action": "patients.patient.viewed"}))
    assert {r[1] for r in viewed} == {"patients.patient.viewed"} and len(viewed) == 2  # not clinic B's
    assert {r[1] for r in _rows(client.get("/audit/", {"action": "accounts."}))} == {"accounts.session.signed_in"}


def test_date_range_is_the_clinics_local_days(clinic_a, patient, physician, clinic_admin, login_as, client):
    clinic_a.time_zone = "America/New_York"
    clinic_a.save()
    ny = zoneinfo.ZoneInfo("America/New_York")
    # 23:30 local on 3 March is already 4 March in UTC: it belongs to 3 March at the clinic.
    late = dt.datetime(2026, 3, 3, 23, 30, tzinfo=ny)
    early_next = dt.datetime(2026, 3, 4, 0, 30, tzinfo=ny)
    for at in (late, early_next):
        AuditEvent.objects.create(action="patients.patient.viewed", patient=patient, clinic=clinic_a,
                                  actor=physician, actor_label=physician.username, at=at)
    login_as(clinic_admin)
    page = client.get("/audit/", {"from": "2026-03-03", "to": "2026-03-03", "action": "patients.patient.viewed"})
    assert [e.at for e in page.context["page"]] == [late]
    page = client.get("/audit/", {"from": "2026-03-04", "action": "patients.patient.viewed"})
    assert [e.at for e in page.context["page"]] == [early_next]


def test_bad_dates_and_patient_links_are_explained_not_a_500(trail, clinic_admin, login_as, client):
    login_as(clinic_admin)
    response = client.get("/audit/", {"from": "last week", "patient_id": "not-a-uuid"})
    assert response.status_code == 200
    assert "is not a date" in response.content.decode()
    assert _rows(response) == []  # a broken patient link shows nothing rather than everything


def test_pages_keep_the_filters(clinic_a, patient, physician, clinic_admin, login_as, client):
    AuditEvent.objects.bulk_create([
        AuditEvent(action="patients.patient.viewed", patient=patient, clinic=clinic_a, actor=physician,
                   actor_label=physician.username) for _ in range(130)
    ])
    login_as(clinic_admin)
    first = client.get("/audit/", {"user": physician.username})
    assert len(first.context["page"]) == 100 and first.context["page"].paginator.count == 130
    assert f"user={physician.username}&amp;page=2" in first.content.decode()
    second = client.get("/audit/", {"user": physician.username, "page": 2})
    assert len(second.context["page"]) == 30


def test_csv_export_is_filtered_audited_and_formula_safe(trail, patient, clinic_admin, clinic_a, login_as, client):
    AuditEvent.objects.create(action="accounts.session.signed_in", clinic=clinic_a, actor_label="=HYPERLINK(1)")
    login_as(clinic_admin)
    response = client.get("/audit/export.csv", {"patient": patient.mrn})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["patient_mrn"] for r in rows} == {patient.mrn} and len(rows) == 2
    exported = AuditEvent.objects.get(action="audit.log.exported")
    assert exported.actor == clinic_admin and exported.details == {"filters": {"patient": patient.mrn}, "rows": 2}
    everything = b"".join(client.get("/audit/export.csv", {"user": "=HYPERLINK(1)"}).streaming_content).decode()
    assert "'=HYPERLINK(1)" in everything


def test_another_clinics_admin_never_sees_these_events(trail, patient, clinic_b, login_as, client):
    login_as(make_staff("admin.b", "clinic_admin", clinic_b))
    assert _rows(client.get("/audit/", {"patient": patient.mrn})) == []
    rows = list(csv.DictReader(io.StringIO(b"".join(
        client.get("/audit/export.csv", {"patient_id": str(patient.public_id)}).streaming_content).decode())))
    assert rows == []


@pytest.mark.parametrize("role", ["physician", "front_desk", "nurse", "analyst"])
def test_export_is_refused_to_roles_without_the_audit_log(role, clinic_a, login_as, client):
    login_as(make_staff(f"x.{role}", role, clinic_a))
    assert client.get("/audit/export.csv").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.log.exported").exists()


def test_who_opened_this_chart_link_for_users_who_may_read_the_log(trail, patient, clinic_a, login_as, client):
    both = make_staff("doc.admin", "physician", clinic_a)
    both.groups.add(Group.objects.get_or_create(name="clinic_admin")[0])
    login_as(both)
    chart = client.get(f"/patients/{patient.public_id}/").content.decode()
    assert "Who has opened this chart" in chart
    link = f"/audit/?patient_id={patient.public_id}&amp;action=patients.patient.viewed"
    assert link in chart
    log = client.get(link.replace("&amp;", "&"))
    assert {r[2] for r in _rows(log)} == {patient.mrn}
    assert f"who opened {patient.family_name}" in log.content.decode()


def test_no_audit_link_on_the_chart_for_roles_without_the_log(trail, patient, physician, front_desk, login_as, client):
    for user in (physician, front_desk):
        login_as(user)
        assert "Who has opened this chart" not in client.get(f"/patients/{patient.public_id}/").content.decode()


def test_the_count_stops_at_the_cap_and_says_so(clinic_a, patient, physician, clinic_admin, login_as, client,
                                                monkeypatch):
    from triggerpoint.shell.audit_log_filters import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 120)
    AuditEvent.objects.bulk_create([
        AuditEvent(action="patients.patient.viewed", patient=patient, clinic=clinic_a, actor=physician,
                   actor_label=physician.username) for _ in range(130)
    ])
    login_as(clinic_admin)
    response = client.get("/audit/", {"user": physician.username})
    paginator = response.context["page"].paginator
    assert paginator.count == 121 and paginator.capped  # counted up to the cap, not every row
    assert "More than 120 events" in response.content.decode()
    monkeypatch.setattr(CappedPaginator, "CAP", 130)
    response = client.get("/audit/", {"user": physician.username})
    assert response.context["page"].paginator.count == 130 and not response.context["page"].paginator.capped
    assert "130 events" in response.content.decode()
