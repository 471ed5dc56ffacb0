"""The plan on the web: portal, tokenised link and clinician views; ticks, opt-out, PDF, .ics,
token scope and expiry, the chart timeline, worklist and portal sections, and the audit trail."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import vobject
from django.utils import timezone

from triggerpoint.aftercare import services
from triggerpoint.aftercare.models import AftercarePlan, TaskCheck
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.audit.models import AuditEvent
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.models import Notification, PatientLink, Status

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def plan(patient):
    return plan_for(signed_procedure(patient, sites=(("upper_trapezius", "left"),), drugs=("triamcinolone",)))


def page_url(plan, suffix=""):
    return f"/aftercare/patient/{plan.patient.public_id}/plan/{plan.public_id}/{suffix}"


def link_for(plan, valid_for=timedelta(days=30), purpose="aftercare.plan"):
    link, token = outbox.issue_link(plan.patient, purpose, plan, valid_for)
    return link, f"/aftercare/p/{token}/"


# ------------------------------------------------------------------ patient portal
def test_the_patient_sees_their_plan_with_todays_tasks_and_warnings(plan, login_as):
    client = login_as(plan.patient.portal_user)
    response = client.get(page_url(plan))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your aftercare plan" in html and "When to get help" in html
    assert '<section class="ac-today" aria-labelledby="today-title" id="day-0">' in html
    assert html.index('id="today-title"') < html.index('id="warn-title"') < html.index('id="day-1"')
    assert plan.days[0]["tasks"][0]["text"] in html
    assert "collapsed lung" in html  # the thoracic warning, once, in the warning box
    assert html.count("collapsed lung") == 1
    assert response["Cache-Control"].startswith("max-age=0")
    assert AuditEvent.objects.filter(action="aftercare.plan.viewed", details__via="portal").exists()


def test_a_spanish_speaking_patient_sees_the_page_in_spanish(patient, login_as):
    patient.preferred_language = "es"
    patient.save()
    plan = plan_for(signed_procedure(patient))
    html = login_as(patient.portal_user).get(page_url(plan)).content.decode()
    assert "Su plan de cuidados" in html and "Parar recordatorios" in html
    assert '<html lang="es">' in html
    assert "Hoy ponga hielo" in html


def test_another_patient_cannot_open_the_plan(plan, other_patient, login_as):
    client = login_as(other_patient.portal_user)
    assert client.get(page_url(plan)).status_code == 404
    assert client.post(page_url(plan, "check/"), {"day": 1, "task": "heat", "done": "1"}).status_code == 404


def test_a_plan_id_under_the_wrong_patient_is_not_found(plan, other_patient, physician, login_as):
    url = f"/aftercare/patient/{other_patient.public_id}/plan/{plan.public_id}/"
    assert login_as(physician).get(url).status_code == 404


def test_ticking_a_task_with_htmx_returns_the_row_and_the_days_progress(plan, login_as):
    client = login_as(plan.patient.portal_user)
    response = client.post(page_url(plan, "check/"), {"day": 1, "task": "heat", "done": "1"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-pressed="true"' in html and 'name="done" value="0"' in html
    assert 'id="progress-1" hx-swap-oob="true"' in html
    check = TaskCheck.objects.get(plan=plan, day_number=1, task_key="heat")
    assert check.done and check.source == "portal"
    assert AuditEvent.objects.filter(action="aftercare.task.checked", details__task="heat").exists()


def test_ticking_without_javascript_redirects_back_to_the_day(plan, login_as):
    client = login_as(plan.patient.portal_user)
    response = client.post(page_url(plan, "check/"), {"day": 2, "task": "stretch:upper_trapezius", "done": "1"})
    assert response.status_code == 302 and response["Location"].endswith(page_url(plan) + "#day-2")
    page = client.get(page_url(plan)).content.decode()
    assert page.count('aria-pressed="true"') == 1


@pytest.mark.parametrize(
    "form", [{"day": "x", "task": "heat"}, {"day": 1}, {"day": 1, "task": "nope"}, {"day": 0, "task": "warning_signs"}]
)
def test_a_bad_tick_is_refused(plan, login_as, form):
    response = login_as(plan.patient.portal_user).post(page_url(plan, "check/"), form)
    assert response.status_code == 400
    assert not TaskCheck.objects.exists()


def test_clinicians_do_not_tick_for_the_patient(plan, nurse, login_as):
    response = login_as(nurse).post(page_url(plan, "check/"), {"day": 1, "task": "heat", "done": "1"})
    assert response.status_code == 403


def test_the_patient_can_stop_reminders_from_the_plan_page(plan, login_as):
    client = login_as(plan.patient.portal_user)
    response = client.post(page_url(plan, "reminders/stop/"))
    assert response.status_code == 302
    assert not services.reminders_for(plan).filter(status=Status.PENDING).exists()
    html = client.get(page_url(plan)).content.decode()
    assert "Reminders are stopped" in html and "Stop reminders</button>" not in html


# ------------------------------------------------------------------ files
def test_the_pdf_renders_with_the_plan_text(plan, login_as):
    from pypdf import PdfReader

    response = login_as(plan.patient.portal_user).get(page_url(plan, "print.pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    assert "Your aftercare plan" in flat and "When to get help" in flat
    assert "Days 1 to 3" in flat and "Days 4 to 10" in flat and plan.patient.family_name in flat  # grouped days
    assert AuditEvent.objects.filter(action="aftercare.plan.downloaded", details__format="pdf").exists()


def test_the_calendar_parses_with_a_second_library_and_has_a_day_per_event(plan, login_as):
    response = login_as(plan.patient.portal_user).get(page_url(plan, "calendar.ics"))
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment")
    calendar = vobject.readOne(response.content.decode())
    events = calendar.vevent_list
    assert [e.dtstart.value.isoformat() for e in events] == [d["date"] for d in plan.days]
    assert all(plan.patient.family_name not in e.description.value for e in events)
    assert plan.clinic.phone in events[0].description.value


# ------------------------------------------------------------------ tokenised link
def test_the_link_opens_the_plan_without_signing_in(plan, client):
    _link, url = link_for(plan)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert plan.days[0]["tasks"][0]["text"] in html
    assert f'action="{url}check/"' in html and page_url(plan) not in html
    assert AuditEvent.objects.filter(action="aftercare.plan.viewed", details__via="link").exists()


def test_the_link_ticks_and_stops_only_its_own_plan(patient, client):
    first = plan_for(signed_procedure(patient))
    # Another day: a second note of the same day would join the first plan instead.
    second = plan_for(signed_procedure(patient, on=timezone.localdate() - timedelta(days=1)))
    _link, url = link_for(first)
    assert client.post(f"{url}check/", {"day": 1, "task": "heat", "done": "1"}).status_code == 302
    assert TaskCheck.objects.get().plan == first
    assert client.get(f"{url}print.pdf").status_code == 200
    html = client.get(url).content.decode()
    assert str(second.public_id) not in html


@pytest.mark.parametrize("problem", ["expired", "revoked", "wrong_purpose", "unknown"])
def test_a_bad_link_shows_nothing_of_the_plan(plan, client, problem):
    link, url = link_for(plan, purpose="followup.checkin" if problem == "wrong_purpose" else "aftercare.plan")
    if problem == "expired":
        PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    if problem == "revoked":
        PatientLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    if problem == "unknown":
        url = "/aftercare/p/not-a-real-token/"
    for suffix, method in (("", "get"), ("print.pdf", "get"), ("calendar.ics", "get"), ("check/", "post")):
        response = getattr(client, method)(url + suffix, {"day": 1, "task": "heat", "done": "1"})
        assert response.status_code == 404
        assert plan.days[0]["tasks"][0]["text"].encode() not in response.content
    if problem == "expired":
        assert b"expired" in client.get(url).content
    assert not TaskCheck.objects.exists()


def test_a_link_for_a_plan_of_another_patient_is_refused(plan, other_patient, client):
    # A link row pointing at a plan that is not its patient's (corrupt or forged) opens nothing.
    _link, token = outbox.issue_link(other_patient, "aftercare.plan", plan, timedelta(days=1))
    assert client.get(f"/aftercare/p/{token}/").status_code == 404


def test_the_link_stops_reminders(plan, client):
    _link, url = link_for(plan)
    response = client.post(f"{url}reminders/stop/")
    assert response.status_code == 302 and response["Location"] == url
    assert not services.reminders_for(plan).filter(status=Status.PENDING).exists()


# ------------------------------------------------------------------ clinicians
def test_the_clinician_view_shows_the_outbox_with_statuses(plan, physician, login_as):
    Notification.objects.filter(pk=services.reminders_for(plan).first().pk).update(
        status=Status.PENDING, attempts=2, last_error="ConnectionRefusedError"
    )
    html = login_as(physician).get(page_url(plan)).content.decode()
    assert "Outbox" in html and "retrying" in html and "ConnectionRefusedError" in html
    assert "triamcinolone" in html


def test_front_desk_cannot_open_a_plan(plan, front_desk, login_as):
    assert login_as(front_desk).get(page_url(plan)).status_code == 403


def test_a_clinician_of_another_clinic_gets_not_found(plan, physician_b, login_as):
    assert login_as(physician_b).get(page_url(plan)).status_code == 404


def test_a_clinician_creates_a_missing_plan_by_hand(patient, nurse, login_as):
    procedure = signed_procedure(patient, send_signal=False)
    url = f"/aftercare/patient/{patient.public_id}/procedure/{procedure.public_id}/plan/"
    client = login_as(nurse)
    assert "Create plan and queue messages" in client.get(url).content.decode()
    response = client.post(url, {"physical_therapy": "on"})
    plan = AftercarePlan.objects.get(procedure=procedure)
    assert response.status_code == 302 and response["Location"] == page_url(plan)
    assert plan.inputs["physical_therapy_planned"] is True
    assert client.get(url)["Location"] == page_url(plan)  # a second visit goes to the plan


def test_a_plan_that_cannot_be_built_shows_the_problems(patient, nurse, login_as):
    procedure = signed_procedure(patient, sites=(), send_signal=False)
    url = f"/aftercare/patient/{patient.public_id}/procedure/{procedure.public_id}/plan/"
    response = login_as(nurse).post(url)
    assert response.status_code == 422 and b"could not be built" in response.content


def test_the_chart_timeline_lists_the_plan_and_its_messages_by_status(plan, physician, login_as):
    first = services.reminders_for(plan).first()
    Notification.objects.filter(pk=first.pk).update(status=Status.FAILED, attempts=12, last_error="SMTP 554")
    services.stop_reminders(plan, via="staff")
    missing = signed_procedure(plan.patient, send_signal=False)
    too_old = signed_procedure(plan.patient, send_signal=False, on=plan.clinic.today() - timedelta(days=11))
    html = login_as(physician).get(f"/patients/{plan.patient.public_id}/timeline/").content.decode()
    assert "Aftercare plan for the procedure of" in html
    total = services.reminders_for(plan).count()
    cancelled = services.reminders_for(plan).filter(status=Status.CANCELLED).count()
    assert f"1 failed, {cancelled} cancelled" in html and cancelled == total - 1
    assert "SMTP 554" in html  # a message that is not getting through is listed on its own
    assert "reminders stopped" in html
    assert f"/procedure/{missing.public_id}/plan/" in html
    assert f"/procedure/{too_old.public_id}/plan/" not in html  # its plan would have ended already


def test_the_worklist_shows_messages_that_are_not_getting_through(plan, nurse, login_as):
    first = services.reminders_for(plan).first()
    Notification.objects.filter(pk=first.pk).update(status=Status.FAILED, attempts=12, last_error="SMTP 554")
    html = login_as(nurse).get("/worklist/").content.decode()
    assert "Aftercare messages not delivered" in html and "SMTP 554" in html


def test_the_portal_shows_the_plan_and_an_opt_out(plan, login_as):
    html = login_as(plan.patient.portal_user).get("/portal/").content.decode()
    assert "Your aftercare plan" in html and page_url(plan) in html
    assert page_url(plan, "reminders/stop/") in html
