"""The worklist's "Today": the clinic's appointments with each patient's readiness, for the staff who work it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_patient, verified_client
from triggerpoint.followup.models import Alert, CheckIn
from triggerpoint.followup.tests.factories import signed_procedure
from triggerpoint.outcomes.repeat_policies import DEFAULT_REPEAT_POLICY
from triggerpoint.procedures import drafting
from triggerpoint.procedures.note_reads import NOTE_DOSING_POLICY
from triggerpoint.scheduling import selectors
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import set_up_clinic
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.shell.demo_clinic import build_demo


@pytest.fixture
def day(sched):
    return selectors.clinic_today(sched["clinic"])


@pytest.fixture
def sched(clinic_a):
    types, rooms = set_up_clinic(clinic_a)
    return {"types": types, "rooms": rooms, "clinic": clinic_a}


def _book(sched, patient, clinician, minutes_from_midnight: int, kind: str = "procedure", status: str = "booked"):
    clinic = sched["clinic"]
    start = selectors.day_bounds(clinic, selectors.clinic_today(clinic))[0] + timedelta(minutes=minutes_from_midnight)
    return Appointment.objects.create(clinic=clinic, patient=patient, appointment_type=sched["types"][kind],
                                      clinician=clinician, room=sched["rooms"][0], starts_at=start,
                                      ends_at=start + timedelta(minutes=30), status=status)


def _ready(patient, day):
    """Screened (ready), consent signed, allergies asked, a recent weight: nothing to fix."""
    screening = ScreeningRecord.objects.create(clinic=patient.clinic, patient=patient, planned_procedure_date=day,
                                               status="ready")
    Consent.objects.create(clinic=patient.clinic, patient=patient, screening=screening, document_version="1",
                           signed_at=timezone.now(), signer_name="Pat")
    patient.allergy_status = "nkda"
    patient.weight_measured_on = day - timedelta(days=3)
    patient.save()
    return screening


def _row(html: str, appointment) -> str:
    match = re.search(rf'<tr[^>]*id="today-{appointment.public_id}".*?</tr>', html, re.S)
    assert match, "row missing"
    return match.group(0)


def _chip(row: str, label: str) -> tuple[str, str]:
    """(state, hidden reason) of the chip called `label` in a row."""
    for item in re.findall(r'<li class="ready ready-\w+">.*?</li>', row, re.S):
        match = re.search(rf'<li class="ready ready-(\w+)">.*?>{label}</(?:a|span)>\s*<span class="sr-only"[^>]*>(.*?)</span>',
                          item, re.S)
        if match:
            return match.group(1), match.group(2)
    raise AssertionError(f"chip {label} missing")


def test_chips_say_what_is_ready_and_what_needs_attention_with_the_reason(client, sched, physician, day):
    fine = make_patient(sched["clinic"], "T-FINE", "Fay", "Fine")
    _ready(fine, day)
    pending = make_patient(sched["clinic"], "T-PEND", "Pia", "Pending", allergy_status="nkda",
                           weight_measured_on=day - timedelta(days=NOTE_DOSING_POLICY.weight_max_age_days + 1))
    ScreeningRecord.objects.create(clinic=pending.clinic, patient=pending, planned_procedure_date=day)
    alerted = make_patient(sched["clinic"], "T-ALRT", "Al", "Alerted")
    _ready(alerted, day)
    note = drafting.create_draft(physician, alerted, procedure_date=day - timedelta(days=2))
    checkin = CheckIn.objects.create(clinic=alerted.clinic, patient=alerted, procedure=note, due_at=timezone.now(),
                                     expires_at=timezone.now() + timedelta(days=1))
    alert = Alert.objects.create(clinic=alerted.clinic, patient=alerted, procedure=note, checkin=checkin,
                                 disposition="urgent")
    a_fine = _book(sched, fine, physician, 9 * 60)
    a_pending = _book(sched, pending, physician, 10 * 60)
    a_alert = _book(sched, alerted, physician, 11 * 60)
    a_visit = _book(sched, pending, physician, 12 * 60, kind="follow_up")
    verified_client(client, physician)
    html = client.get("/worklist/").content.decode()
    assert html.index('id="today-worklist"') > html.index("Follow-up alerts")  # an urgent alert stays on top
    today_section = html.split('id="today-worklist"')[1]
    assert today_section.index("T-FINE") < today_section.index("T-PEND") < today_section.index("T-ALRT")  # time order
    row = _row(html, a_fine)
    for label in ("Screening", "Consent", "Allergies", "Weight", "Repeat", "Alerts"):
        assert _chip(row, label)[0] == "ok", label
    row = _row(html, a_pending)
    assert _chip(row, "Screening") == ("attention", "needs attention: Screening not evaluated yet (answers or facts missing).")
    assert _chip(row, "Consent")[0] == "attention"
    assert _chip(row, "Allergies")[0] == "ok"
    state, reason = _chip(row, "Weight")
    assert state == "attention" and f"older than {NOTE_DOSING_POLICY.weight_max_age_days} days" in reason
    row = _row(html, a_alert)
    state, reason = _chip(row, "Alerts")
    assert state == "attention" and "1 open follow-up alert" in reason
    assert f"/alerts/{alert.public_id}/" in row
    assert _chip(_row(html, a_visit), "Screening")[0] == "na"  # not a procedure visit
    # the reason is reachable by keyboard: a link, or a focusable span, described by the hidden text
    assert 'tabindex="0"' in row or "<a href" in row
    assert re.search(r'aria-describedby="why-[^"]+"', row)
    for patient in (fine, pending, alerted):
        assert AuditEvent.objects.filter(action="shell.worklist.viewed", patient=patient, actor=physician).exists()


def test_allergy_never_asked_and_no_screening_need_attention_with_links_to_fix(client, sched, nurse, physician, day):
    patient = make_patient(sched["clinic"], "T-UNK", "Una", "Unknown")  # allergy status defaults to unknown
    appointment = _book(sched, patient, physician, 9 * 60)
    verified_client(client, nurse)
    row = _row(client.get("/worklist/").content.decode(), appointment)
    assert _chip(row, "Allergies") == ("attention", "needs attention: Allergy status not recorded (never asked).")
    assert _chip(row, "Screening")[0] == "attention"
    assert f"/patients/{patient.public_id}/" in row and "screening/patient/" in row


def test_a_missing_screening_links_to_a_new_screening_for_that_appointment(client, sched, physician, day):
    patient = make_patient(sched["clinic"], "T-NEW", "Nell", "Newscreen")
    appointment = _book(sched, patient, physician, 10 * 60)
    verified_client(client, physician)
    row = _row(client.get("/worklist/").content.decode(), appointment)
    link = f"/screening/patient/{patient.public_id}/new/?appointment={appointment.public_id}"
    assert row.count(link) == 2  # the screening and consent chips
    # Followed, the new screening's date is that appointment's (issue 16).
    html = client.get(link).content.decode()
    assert f'value="{day.isoformat()}"' in re.search(r'<input type="date"[^>]*>', html).group(0)
    assert "Prefilled from the appointment" in html


def test_front_desk_sees_one_neutral_chip_and_no_clinical_reason(client, sched, front_desk, physician, day):
    patient = make_patient(sched["clinic"], "T-DESK", "Des", "Desk")
    ScreeningRecord.objects.create(clinic=patient.clinic, patient=patient, planned_procedure_date=day,
                                   status="contraindicated")
    appointment = _book(sched, patient, physician, 9 * 60)
    verified_client(client, front_desk)
    row = _row(client.get("/worklist/").content.decode(), appointment)
    assert _chip(row, "Needs clinician review")[0] == "attention"
    for clinical in ("Screening", "Contraindicated", "contraindicated", "Allerg", "Weight", "Consent"):
        assert clinical not in row, clinical
    assert "Arrived" in row  # the desk still checks the patient in


@pytest.mark.parametrize("role", ["analyst", "clinic_admin"])
def test_roles_without_the_worklist_are_refused(client, sched, role, request, physician, day):
    patient = make_patient(sched["clinic"], "T-REF", "Ref", "Used")
    _book(sched, patient, physician, 9 * 60)
    verified_client(client, request.getfixturevalue(role))
    response = client.get("/worklist/")
    assert response.status_code in (302, 403)
    assert b"T-REF" not in response.content


def test_a_patient_signed_in_to_the_portal_gets_no_worklist(client, sched, patient, physician, day):
    _book(sched, patient, physician, 9 * 60)
    client.force_login(patient.portal_user)
    response = client.get("/worklist/")
    assert response.status_code in (302, 403)
    assert b"today-worklist" not in response.content


def test_mine_shows_only_the_clinicians_appointments(client, sched, physician, nurse, day):
    mine = make_patient(sched["clinic"], "T-MINE", "Mi", "Mine")
    theirs = make_patient(sched["clinic"], "T-THEIRS", "Th", "Theirs")
    _book(sched, mine, physician, 9 * 60)
    _book(sched, theirs, nurse, 10 * 60)
    verified_client(client, physician)
    section = client.get("/worklist/?mine=1").content.decode().split('id="today-worklist"')[1].split("</table>")[0]
    assert "T-MINE" in section and "T-THEIRS" not in section
    section = client.get("/worklist/").content.decode().split('id="today-worklist"')[1].split("</table>")[0]
    assert "T-MINE" in section and "T-THEIRS" in section


def _queries(client, sched, physician, count: int, day) -> int:
    for i in range(count):
        patient = make_patient(sched["clinic"], f"T-Q{count}-{i}", "Q", f"Count{i}")
        _ready(patient, day)
        signed_procedure(patient, physician, on=day - timedelta(days=10 + i))  # the repeat rule reads each history
        _book(sched, patient, physician, 8 * 60 + i * 10, kind="procedure" if i % 2 else "follow_up")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/worklist/").status_code == 200
    Appointment.objects.update(deleted_at=timezone.now())  # clinical records are only soft-deleted
    return len(captured)


def test_query_count_does_not_grow_with_the_day(client, sched, physician, day):
    verified_client(client, physician)
    client.get("/worklist/")  # warm the session and the caches
    three = _queries(client, sched, physician, 3, day)
    thirty = _queries(client, sched, physician, 30, day)
    assert three == thirty, (three, thirty)


def test_one_click_arrival_returns_to_the_worklist_and_is_audited(client, sched, front_desk, physician, day):
    patient = make_patient(sched["clinic"], "T-ARR", "Ari", "Arrives")
    appointment = _book(sched, patient, physician, 9 * 60)
    verified_client(client, front_desk)
    row = _row(client.get("/worklist/").content.decode(), appointment)
    action = re.search(r'<form method="post" action="([^"]+)"', row).group(1)
    assert 'name="csrfmiddlewaretoken"' in row
    response = client.post(action, {"status": "arrived", "version": appointment.version, "next": "/worklist/"})
    assert response.status_code == 302 and response["Location"] == "/worklist/"
    appointment.refresh_from_db()
    assert appointment.status == "arrived"
    assert AuditEvent.objects.filter(patient=patient, actor=front_desk, action__startswith="scheduling.").exists()
    row = _row(client.get("/worklist/").content.decode(), appointment)
    assert 'value="in_room"' in row


def test_a_draft_opened_for_todays_arrived_procedure_links_the_appointment_and_the_row_shows_note(
        client, sched, physician, day):
    patient = make_patient(sched["clinic"], "T-NOTE", "No", "Te")
    booked_only = _book(sched, patient, physician, 8 * 60)
    here = _book(sched, patient, physician, 9 * 60, status="arrived")
    procedure = drafting.create_draft(physician, patient, procedure_date=day)
    assert procedure.appointment_id == here.pk
    verified_client(client, physician)
    html = client.get("/worklist/").content.decode()
    row = _row(html, here)
    assert f"/{procedure.public_id}/" in row and ">Note</a>" in row
    assert ">Note</a>" not in _row(html, booked_only)
    day_view = client.get(f"/schedule/?date={day.isoformat()}").content.decode()
    row = re.search(rf'<tr[^>]*id="appt-{here.public_id}".*?</tr>', day_view, re.S).group(0)
    assert f"/{procedure.public_id}/" in row and ">Note</a>" in row


def test_the_front_desk_gets_no_note_link(client, sched, physician, front_desk, day):
    patient = make_patient(sched["clinic"], "T-DNOTE", "Dn", "Ote")
    here = _book(sched, patient, physician, 9 * 60, status="arrived")
    drafting.create_draft(physician, patient, procedure_date=day)
    verified_client(client, front_desk)
    assert ">Note</a>" not in _row(client.get("/worklist/").content.decode(), here)
    assert ">Note</a>" not in client.get(f"/schedule/?date={day.isoformat()}").content.decode()


def test_a_draft_with_no_arrival_today_links_no_appointment(sched, physician, day):
    patient = make_patient(sched["clinic"], "T-NONE", "No", "Ne")
    _book(sched, patient, physician, 9 * 60)  # booked, not arrived
    assert drafting.create_draft(physician, patient, procedure_date=day).appointment_id is None


def test_the_demo_clinics_today_shows_readiness_chips(client, db):
    """A newcomer opening the demo sees today's diary on the worklist, with chips to read and fix."""
    with freeze_time("2026-12-09 15:00:00"):  # 10:00 in the demo clinic (New York)
        ctx = build_demo(patients=16, seed=7, today=date(2026, 12, 9), only_apps=("scheduling", "screening"))
        verified_client(client, ctx.staff["dr.rivera"])
        html = client.get("/worklist/").content.decode()
    today = html.split('id="today-worklist"')[1].split("</table>")[0]
    assert today.count('class="ready ready-') >= 5 * 4  # at least four appointments, five chips each
    assert 'value="arrived"' in today or 'value="in_room"' in today


def test_a_session_too_soon_after_the_last_one_needs_attention(client, sched, physician, day):
    """Nothing planned yet: the rule is checked for the areas of the last session (a repeat usually treats them)."""
    weeks = DEFAULT_REPEAT_POLICY.min_weeks_since_same_area
    soon = make_patient(sched["clinic"], "T-SOON", "So", "On")
    signed_procedure(soon, physician, on=day - timedelta(days=weeks * 7 - 1))
    later = make_patient(sched["clinic"], "T-LATER", "La", "Ter")
    signed_procedure(later, physician, on=day - timedelta(days=weeks * 7))
    a_soon, a_later = _book(sched, soon, physician, 9 * 60), _book(sched, later, physician, 10 * 60)
    verified_client(client, physician)
    html = client.get("/worklist/").content.decode()
    state, reason = _chip(_row(html, a_soon), "Repeat")
    assert state == "attention"
    assert "No areas planned yet" in reason and f"only {weeks * 7 - 1} days since the cervical region" in reason
    state, reason = _chip(_row(html, a_later), "Repeat")
    assert state == "ok" and f"{weeks * 7} days ago" in reason


def _planned(patient, day, *muscles):
    return ScreeningRecord.objects.create(clinic=patient.clinic, patient=patient, planned_procedure_date=day,
                                          plan={"sites": [{"muscle": m, "side": "left"} for m in muscles]})


def test_the_repeat_chip_checks_the_planned_areas_like_the_outcomes_repeat_rule(client, sched, physician, day):
    """The interval is per area (outcomes.repeat, RPT-INTERVAL-6W): a neck treated 20 days ago does not hold
    back a low back planned today, and does hold back the neck; the chip says what the outcomes rule says."""
    from triggerpoint.outcomes.services import repeat_decision_for

    other_area = make_patient(sched["clinic"], "T-AREA", "Ar", "Ea")
    same_area = make_patient(sched["clinic"], "T-SAME", "Sa", "Me")
    for patient in (other_area, same_area):
        signed_procedure(patient, physician, on=day - timedelta(days=20), sites=(("upper_trapezius", "left"),))
    _planned(other_area, day, "quadratus_lumborum")
    _planned(same_area, day, "levator_scapulae", "quadratus_lumborum")
    a_other, a_same = _book(sched, other_area, physician, 9 * 60), _book(sched, same_area, physician, 10 * 60)
    verified_client(client, physician)
    html = client.get("/worklist/").content.decode()
    state, reason = _chip(_row(html, a_other), "Repeat")
    assert state == "ok" and "Planned areas: Lumbar" in reason
    state, reason = _chip(_row(html, a_same), "Repeat")
    assert state == "attention" and "Planned areas: Cervical and Lumbar" in reason
    outcomes_says = [f.message for f in repeat_decision_for(same_area, day, ["cervical", "lumbar"]).findings
                     if f.rule == "RPT-INTERVAL-6W" and f.severity == "not_met"]
    assert outcomes_says and all(message in reason for message in outcomes_says)
    assert "lumbar region was treated" not in reason  # a first injection there: no interval to keep


def test_one_session_too_many_in_a_rolling_year_needs_attention(client, sched, physician, day):
    limit = DEFAULT_REPEAT_POLICY.max_sessions_per_12_months
    patient = make_patient(sched["clinic"], "T-MANY", "Ma", "Ny")
    for n in range(limit):  # each well apart, so only the count can fail
        signed_procedure(patient, physician, on=day - timedelta(days=60 * (n + 1)))
    _planned(patient, day, "upper_trapezius")
    appointment = _book(sched, patient, physician, 9 * 60)
    verified_client(client, physician)
    state, reason = _chip(_row(client.get("/worklist/").content.decode(), appointment), "Repeat")
    assert state == "attention" and f"would be the {limit + 1}th" in reason
