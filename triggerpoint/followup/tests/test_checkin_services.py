"""Scheduling check-ins on signing, answering them, and what an answer leads to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.checkins import (
    CheckInClosed,
    mark_missed_checkins,
    on_procedure_signed,
    report_problem,
    schedule_checkins,
    submit_checkin,
)
from triggerpoint.followup.display import summarise_procedure
from triggerpoint.followup.models import Alert, AnsweredVia, CheckIn, CheckInKind, CheckInStatus
from triggerpoint.followup.selectors import checkins_to_review
from triggerpoint.followup.tests.factories import rota, signed_procedure, staff
from triggerpoint.notifications.models import Notification, PatientLink

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 16)
PERFORMED = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # 14:00 in New York
SIGNED = PERFORMED + timedelta(minutes=30)
DAY0_EVENING = datetime(2026, 11, 16, 23, 0, tzinfo=UTC)  # 18:00 in New York


@pytest.fixture
def procedure(patient, physician):
    return signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED)


@pytest.fixture
def scheduled(procedure):
    with freeze_time(SIGNED):
        return schedule_checkins(procedure)


def test_signing_schedules_the_evening_of_day_0_and_days_1_3_5_in_clinic_time(scheduled):
    assert [(c.day, c.due_at) for c in scheduled] == [
        (0, DAY0_EVENING),
        (1, datetime(2026, 11, 17, 15, 0, tzinfo=UTC)),
        (3, datetime(2026, 11, 19, 15, 0, tzinfo=UTC)),
        (5, datetime(2026, 11, 21, 15, 0, tzinfo=UTC)),
    ]
    assert all(c.status == CheckInStatus.DUE and c.expires_at == c.due_at + timedelta(hours=48) for c in scheduled)


def test_each_check_in_is_sent_through_the_outbox_at_its_time_with_a_link_to_it_alone(scheduled, patient):
    notes = list(Notification.objects.filter(kind="followup.checkin").order_by("send_after"))
    assert [n.send_after for n in notes] == [c.due_at for c in scheduled]
    assert {n.channel for n in notes} == {"email"} and {n.to for n in notes} == {patient.email}
    links = PatientLink.objects.filter(purpose="followup.checkin")
    assert sorted(link.target_id for link in links) == sorted(str(c.public_id) for c in scheduled)
    for checkin in scheduled:
        link = links.get(target_id=str(checkin.public_id))
        assert link.expires_at == checkin.expires_at
    assert "/followup/c/" in notes[0].body and "/followup/r/" in notes[0].body
    assert "911" in notes[0].body


def test_a_patient_who_prefers_sms_gets_the_check_in_by_sms(procedure, patient):
    from triggerpoint.notifications.models import ContactPreference

    patient.phone = "(555) 222-3333"
    patient.save()
    ContactPreference.objects.create(patient=patient, preferred_channel="sms")
    with freeze_time(SIGNED):
        schedule_checkins(procedure)
    assert set(Notification.objects.filter(kind="followup.checkin").values_list("channel", "to")) == {
        ("sms", "(555) 222-3333")}


def test_scheduling_again_adds_nothing(procedure, scheduled):
    from triggerpoint.procedures.models import Procedure

    with freeze_time(SIGNED):
        assert schedule_checkins(procedure) == []
        on_procedure_signed(sender=Procedure, procedure=procedure)
    assert CheckIn.objects.filter(procedure=procedure).count() == 4
    assert Notification.objects.filter(kind="followup.checkin").count() == 4


def test_the_clinic_can_change_the_check_in_plan(procedure, clinic_a, physician):
    rota(clinic_a, physician)
    clinic_a.oncall_schedule.checkin_slots = [{"day": 0, "time": "20:00"}, {"day": 2, "time": "09:00"}]
    clinic_a.oncall_schedule.save()
    with freeze_time(SIGNED):
        created = schedule_checkins(procedure)
    assert [(c.day, c.due_at) for c in created] == [
        (0, datetime(2026, 11, 17, 1, 0, tzinfo=UTC)), (2, datetime(2026, 11, 18, 14, 0, tzinfo=UTC))]


def _answer(checkin, answers, at):
    with freeze_time(at):
        return submit_checkin(checkin, answers, via=AnsweredVia.LINK)


def test_an_answer_stores_the_disposition_with_rule_ids_and_versions(scheduled):
    checkin, result = _answer(scheduled[1], {"symptoms": ["site_soreness"], "pain_now": 3, "relief_percent": 40},
                              scheduled[1].due_at + timedelta(minutes=5))
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED and checkin.answered_via == "link"
    assert checkin.disposition == result.disposition == "self_care"
    assert checkin.triage["rules"] == [{"id": "TRI-SELF-CARE", "version": 1}]
    assert checkin.triage["symptom_list_version"] >= 1
    assert checkin.answers["relief_percent"] == 40
    assert checkin.triage["request"]["sites"] == [{"muscle": "upper_trapezius", "side": "left"}]
    assert not Alert.objects.exists()
    assert AuditEvent.objects.filter(action="followup.checkin.answered", object_id=str(checkin.public_id)).exists()


def test_breathlessness_after_an_upper_trapezius_injection_is_an_emergency_naming_the_lung(scheduled, clinic_a):
    nurse = staff("nina.oncall", "nurse", clinic_a)
    rota(clinic_a, nurse)
    checkin, result = _answer(scheduled[0], {"symptoms": ["trouble_breathing"]}, DAY0_EVENING + timedelta(minutes=1))
    assert result.disposition == "emergency"
    assert "TRI-EMERG-PNEUMOTHORAX" in result.rule_ids
    assert "collapsed lung" in result.instructions and "911" in result.instructions
    alert = Alert.objects.get(checkin=checkin)
    assert alert.disposition == "emergency" and alert.status == "open"
    pages = Notification.objects.filter(kind="followup.page")
    assert set(pages.values_list("channel", "to")) == {("sms", "(555) 100-0000"), ("email", nurse.email)}
    assert all(p.recipient_user_id == nurse.pk for p in pages)


def test_a_fever_above_101_f_on_day_1_pages_the_on_call_clinician(scheduled, clinic_a):
    nurse = staff("nina.oncall", "nurse", clinic_a)
    rota(clinic_a, nurse)
    _checkin, result = _answer(scheduled[1], {"temperature": {"value": 101.1, "unit": "F"}},
                               scheduled[1].due_at + timedelta(hours=1))
    assert result.disposition == "urgent"
    assert Alert.objects.filter(disposition="urgent").count() == 1
    assert Notification.objects.filter(kind="followup.page", recipient_user=nurse).count() == 2


def test_a_reading_of_exactly_101_f_raises_no_alert(scheduled, clinic_a):
    _checkin, result = _answer(scheduled[1], {"temperature": {"value": 101.0, "unit": "F"}},
                               scheduled[1].due_at + timedelta(hours=1))
    assert result.disposition == "self_care"
    assert not Alert.objects.exists()


def test_an_implausible_temperature_is_refused_and_nothing_is_stored(scheduled):
    with pytest.raises(RuleInputError) as caught:
        _answer(scheduled[1], {"temperature": {"value": 300, "unit": "F"}}, scheduled[1].due_at)
    assert "not a plausible body temperature" in " ".join(caught.value.problems)
    scheduled[1].refresh_from_db()
    assert scheduled[1].status == CheckInStatus.DUE and not scheduled[1].answers


def test_a_check_in_is_answered_once(scheduled):
    _answer(scheduled[1], {}, scheduled[1].due_at)
    with pytest.raises(CheckInClosed):
        _answer(CheckIn.objects.get(pk=scheduled[1].pk), {}, scheduled[1].due_at + timedelta(minutes=1))


def test_a_check_in_cannot_be_answered_before_it_opens_or_after_it_expires(scheduled):
    with pytest.raises(CheckInClosed):
        _answer(scheduled[2], {}, scheduled[2].due_at - timedelta(seconds=1))
    with pytest.raises(CheckInClosed):
        _answer(scheduled[2], {}, scheduled[2].expires_at)
    _answer(scheduled[2], {}, scheduled[2].expires_at - timedelta(seconds=1))


def test_staff_may_enter_a_missed_check_in_taken_by_phone(scheduled, nurse):
    with freeze_time(scheduled[1].expires_at + timedelta(minutes=1)):
        assert mark_missed_checkins() >= 1
    checkin = CheckIn.objects.get(pk=scheduled[1].pk)
    assert checkin.status == CheckInStatus.MISSED
    with freeze_time(checkin.expires_at + timedelta(hours=1)):
        answered, result = submit_checkin(checkin, {"symptoms": ["bruising"]}, via=AnsweredVia.STAFF,
                                                   user=nurse)
    assert answered.answered_via == "staff" and result.disposition == "self_care"


def test_missed_check_ins_are_marked_once_and_audited(scheduled):
    with freeze_time(scheduled[0].expires_at):
        assert mark_missed_checkins() == 1
        assert mark_missed_checkins() == 0
    assert AuditEvent.objects.filter(action="followup.checkin.missed").count() == 1


def test_a_patient_can_report_a_problem_until_the_end_of_day_14(procedure):
    last_minute = datetime(2026, 12, 1, 4, 59, tzinfo=UTC)  # 23:59 New York on day 14 (Nov 30)
    with freeze_time(last_minute):
        checkin, result = report_problem(procedure, {"symptoms": ["other_concern"]}, via=AnsweredVia.PORTAL)
    assert checkin.kind == CheckInKind.PATIENT_INITIATED and result.disposition == "routine"
    with freeze_time(last_minute + timedelta(minutes=1)), pytest.raises(CheckInClosed):
        report_problem(procedure, {"symptoms": ["other_concern"]}, via=AnsweredVia.PORTAL)


def test_hives_on_day_5_pages_but_on_day_6_waits_for_a_routine_review(procedure, clinic_a):
    # Issue 14: the 5-day window now holds for fever and allergy only (site redness was used here before).
    with freeze_time(datetime(2026, 11, 21, 20, 0, tzinfo=UTC)):  # day 5, 15:00 local
        _c, day5 = report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL)
    with freeze_time(datetime(2026, 11, 22, 20, 0, tzinfo=UTC)):  # day 6
        checkin, day6 = report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL)
    assert (day5.disposition, day6.disposition) == ("urgent", "routine")
    assert Alert.objects.count() == 1
    assert list(checkins_to_review(clinic_a)) == [checkin]


def test_site_redness_on_day_6_and_pus_on_day_14_still_page_the_on_call_clinician(procedure):
    with freeze_time(datetime(2026, 11, 22, 20, 0, tzinfo=UTC)):  # day 6, 15:00 local
        _c, day6 = report_problem(procedure, {"symptoms": ["site_redness"]}, via=AnsweredVia.PORTAL)
    with freeze_time(datetime(2026, 11, 30, 20, 0, tzinfo=UTC)):  # day 14
        _c, day14 = report_problem(procedure, {"symptoms": ["site_discharge"]}, via=AnsweredVia.PORTAL)
    assert (day6.disposition, day14.disposition) == ("urgent", "urgent")
    assert {r.rule for r in day14.reasons} == {"TRI-URG-SITE"}
    assert Alert.objects.count() == 2


def test_with_nobody_on_call_the_performing_physician_is_paged(clinic_a, patient):
    surgeon = staff("dr.surgeon", "physician", clinic_a)
    procedure = signed_procedure(patient, surgeon, on=MONDAY, performed_at=PERFORMED)
    with freeze_time(SIGNED + timedelta(hours=1)):
        report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL)
    alert = Alert.objects.get()
    assert [(p["user"], p["reason"]) for p in alert.page_log] == [("dr.surgeon", "no_one_on_call")]
    assert Notification.objects.get(kind="followup.page").to == surgeon.email


def test_the_procedure_summary_highlights_pneumothorax_risk_sites(clinic_a, patient, physician):
    procedure = signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED,
                                 sites=[("upper_trapezius", "left"), ("gluteus_medius", "right")])
    summary = summarise_procedure(procedure)
    assert [(s.muscle, s.pneumothorax_risk) for s in summary.sites] == [
        ("upper_trapezius", True), ("gluteus_medius", False)]
    assert [s.muscle for s in summary.pneumothorax_sites] == ["upper_trapezius"]
    assert summary.injectates and "Lidocaine" in summary.injectates[0]
