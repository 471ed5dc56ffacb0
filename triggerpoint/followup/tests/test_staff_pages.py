"""The clinician's side: the worklist order, the alert page, acknowledge/resolve/call note from the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.followup.checkins import report_problem, schedule_checkins
from triggerpoint.followup.models import Alert, AnsweredVia, CallNote
from triggerpoint.followup.tests.factories import rota, signed_procedure

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)  # day 2 after a Monday procedure, 10:30 New York


@pytest.fixture
def setup(patient, other_patient, physician, nurse, clinic_a):
    rota(clinic_a, nurse, physician)
    with freeze_time(NOW - timedelta(days=2)):
        trapezius = signed_procedure(patient, physician, on=date(2026, 11, 16),
                                     performed_at=datetime(2026, 11, 16, 19, 0, tzinfo=UTC),
                                     sites=[("upper_trapezius", "left"), ("gluteus_medius", "right")])
        schedule_checkins(trapezius)
        gluteal = signed_procedure(other_patient, physician, on=date(2026, 11, 16),
                                   sites=[("gluteus_medius", "left")])
        schedule_checkins(gluteal)
    with freeze_time(NOW - timedelta(minutes=10)):
        report_problem(trapezius, {"symptoms": ["trouble_breathing"], "free_text": "breathless since lunch"},
                                via=AnsweredVia.PORTAL)
    return {"alert": Alert.objects.get(), "procedure": trapezius}


def test_the_worklist_shows_open_alerts_first_then_due_check_ins(client, login_as, nurse, setup):
    from triggerpoint.followup.worklist import sections

    with freeze_time(NOW):
        found = sections(nurse)
        assert [s.title for s in found] == ["Follow-up alerts", "Check-ins due"]
        assert found[0].priority < found[1].priority and found[0].count == 1
        assert found[1].count == 4  # day 0 and day 1 for each of the two procedures
        login_as(nurse)
        page = client.get(reverse("core:worklist")).content.decode()
    assert page.index("Follow-up alerts") < page.index("Check-ins due")
    assert "Portalowner, Pat" in page and "breathless since lunch" in page
    assert 'class="site ptx"' in page and "Upper trapezius" in page  # the pneumothorax-risk site is highlighted
    assert "Acknowledge" in page and "Call note" in page
    assert AuditEvent.objects.filter(action="followup.worklist.viewed").exists()


def test_front_desk_sees_no_follow_up_sections(front_desk, setup):
    from triggerpoint.followup.worklist import sections

    assert sections(front_desk) == []


def test_acknowledging_from_the_worklist_returns_to_it(client, login_as, nurse, setup):
    alert = setup["alert"]
    login_as(nurse)
    with freeze_time(NOW):
        response = client.post(reverse("followup:alert_acknowledge", args=[alert.patient.public_id, alert.public_id]),
                               {"next": reverse("core:worklist")})
    assert response.status_code == 302 and response["Location"] == reverse("core:worklist")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == nurse


def test_a_foreign_next_url_is_ignored(client, login_as, nurse, setup):
    alert = setup["alert"]
    login_as(nurse)
    response = client.post(reverse("followup:alert_acknowledge", args=[alert.patient.public_id, alert.public_id]),
                           {"next": "https://evil.example/"})
    assert response["Location"] == reverse("followup:alert", args=[alert.patient.public_id, alert.public_id])


def test_one_click_call_note_from_the_worklist(client, login_as, nurse, setup):
    alert = setup["alert"]
    login_as(nurse)
    response = client.post(reverse("followup:call_note", args=[alert.patient.public_id]),
                           {"outcome": "sent_to_ed", "alert": str(alert.public_id), "next": "/worklist/"})
    assert response.status_code == 302
    call = CallNote.objects.get()
    assert call.outcome == "sent_to_ed" and call.alert == alert and call.created_by == nurse
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


def test_the_alert_page_shows_answers_reasons_with_basis_procedure_and_pages(client, login_as, physician, setup):
    alert = setup["alert"]
    login_as(physician)
    page = client.get(reverse("followup:alert", args=[alert.patient.public_id, alert.public_id])).content.decode()
    assert "TRI-EMERG-PNEUMOTHORAX" in page and "puncture the lung" in page  # the rule's basis
    assert "breathless since lunch" in page and "Lidocaine" in page
    assert "first on call" in page  # the page log
    assert AuditEvent.objects.filter(action="followup.alert.viewed", actor=physician).exists()


def test_resolving_from_the_alert_page_requires_a_note(client, login_as, physician, setup):
    alert = setup["alert"]
    url = reverse("followup:alert_resolve", args=[alert.patient.public_id, alert.public_id])
    login_as(physician)
    client.post(url, {"note": ""})
    alert.refresh_from_db()
    assert alert.status == "open"
    client.post(url, {"note": "Sent to ED; chest X-ray: small apical pneumothorax, observed, discharged."})
    alert.refresh_from_db()
    assert alert.status == "resolved" and "pneumothorax" in alert.resolution_note


def test_a_record_of_another_patient_under_this_patients_url_is_not_found(client, login_as, physician, setup,
                                                                          other_patient):
    alert = setup["alert"]
    login_as(physician)
    response = client.get(reverse("followup:alert", args=[other_patient.public_id, alert.public_id]))
    assert response.status_code == 404


def test_the_on_call_page_saves_an_ordered_rota(client, login_as, clinic_admin, physician, nurse, clinic_a):
    login_as(clinic_admin)
    assert client.get(reverse("followup:oncall")).status_code == 200
    response = client.post(reverse("followup:oncall"), {
        "user": [str(physician.pk), str(nurse.pk), ""], "phone": ["(555) 300-0001", "(555) 300-0002", ""],
        "starts_at": ["", "", ""], "ends_at": ["", "", ""],
        "acknowledge_within_minutes": "10", "checkin_slots": "0 19:00, 2 09:00",
    })
    assert response.status_code == 302
    schedule = clinic_a.oncall_schedule
    schedule.refresh_from_db()
    assert [s.user for s in schedule.slots.all()] == [physician, nurse]
    assert schedule.acknowledge_within_minutes == 10
    assert [s.day for s in schedule.plan.slots] == [0, 2]
    assert AuditEvent.objects.filter(action="followup.oncall.updated", actor=clinic_admin).exists()


def test_the_on_call_page_refuses_people_who_cannot_acknowledge_alerts(client, login_as, clinic_admin, front_desk):
    login_as(clinic_admin)
    response = client.post(reverse("followup:oncall"), {
        "user": [str(front_desk.pk)], "phone": [""], "starts_at": [""], "ends_at": [""],
        "acknowledge_within_minutes": "15", "checkin_slots": "0 18:00"})
    assert response.status_code == 200
    assert not hasattr(clinic_admin.clinic, "oncall_schedule") or not clinic_admin.clinic.oncall_schedule.slots.exists()


def test_the_chart_timeline_lists_the_alert(client, login_as, physician, setup):
    login_as(physician)
    page = client.get(reverse("patients:timeline", args=[setup["alert"].patient.public_id])).content.decode()
    assert "Emergency alert" in page and "Problem reported by the patient" in page
