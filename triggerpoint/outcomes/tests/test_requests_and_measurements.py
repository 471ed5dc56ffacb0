"""Outcome requests after signing, recording answers, the pain diary, and the repeat decision service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import outcome_requests, schedule, services
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, ProcedureOutcome, RequestStatus
from triggerpoint.outcomes.tests.factories import answer, signed_procedure

DAY = date(2026, 3, 2)
# Every question of the follow-up questionnaire (partial submissions are refused; test_incomplete_answers.py).
COMPLETE_ANSWERS = {"nrs_pain": {"now": 3, "average": 3, "worst": 5}, "percent_relief": {"relief": 50},
                    "pgic": {"change": 2}, "peg3": {"pain": 3, "enjoyment": 3, "activity": 3}}
pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    with freeze_time("2026-03-02 16:00:00"):
        yield


def test_it_schedules_baseline_immediate_and_follow_up_requests_when_a_procedure_is_signed(frozen, patient, physician):
    from triggerpoint.notifications.models import Notification

    procedure = signed_procedure(patient, physician, DAY)
    requests = {r.time_point: r for r in OutcomeRequest.objects.filter(procedure=procedure)}
    assert set(requests) == {"baseline", "immediate", "2w", "6w", "12w"}
    assert requests["2w"].due_on == DAY + timedelta(days=14)
    assert requests["6w"].due_on == DAY + timedelta(days=42)
    assert requests["12w"].answer_by == DAY + timedelta(days=84 + 14)
    assert requests["baseline"].status == RequestStatus.COMPLETED
    assert requests["immediate"].status == RequestStatus.COMPLETED
    notes = Notification.objects.filter(kind="outcomes.request", patient=patient).order_by("send_after")
    assert notes.count() == 3
    assert "/outcomes/r/" in notes[0].body and notes[0].channel == "email"
    assert notes[0].send_after.date() == DAY + timedelta(days=14)


def test_it_records_the_notes_pre_and_post_nrs_as_baseline_and_immediate_measurements(frozen, patient, physician):
    procedure = signed_procedure(patient, physician, DAY, pre=8, post=3)
    readings = {m.time_point: m for m in Measurement.objects.filter(procedure=procedure)}
    assert readings["baseline"].answers == {"now": 8}
    assert readings["immediate"].answers == {"now": 3}
    assert readings["baseline"].source == "clinic"


def test_receiving_the_signal_twice_creates_nothing_twice(frozen, patient, physician):
    from triggerpoint.notifications.models import Notification

    procedure = signed_procedure(patient, physician, DAY)
    outcome_requests.schedule_outcome_requests(procedure)
    outcome_requests.on_procedure_signed(sender=None, procedure=procedure)
    assert OutcomeRequest.objects.filter(procedure=procedure).count() == 5
    assert Measurement.objects.filter(procedure=procedure).count() == 2
    assert Notification.objects.filter(kind="outcomes.request").count() == 3


def test_the_receiver_is_connected_to_procedure_signed(frozen, patient, physician):
    from triggerpoint.procedures.models import Procedure
    from triggerpoint.procedures.signals import procedure_signed

    procedure = signed_procedure(patient, physician, DAY, schedule=False)
    assert not OutcomeRequest.objects.filter(procedure=procedure).exists()
    responses = procedure_signed.send(sender=Procedure, procedure=procedure)
    assert any(receiver is outcome_requests.on_procedure_signed for receiver, _ in responses)
    assert OutcomeRequest.objects.filter(procedure=procedure).count() == 5


def test_the_follow_up_schedule_is_configurable(frozen, patient, physician, settings):
    settings.OUTCOMES_SCHEDULE = {"follow_up_days": {"2w": 10, "6w": 45}}
    procedure = signed_procedure(patient, physician, DAY)
    due = dict(OutcomeRequest.objects.filter(procedure=procedure).values_list("time_point", "due_on"))
    assert due["2w"] == DAY + timedelta(days=10) and due["6w"] == DAY + timedelta(days=45) and "12w" not in due


def test_a_schedule_with_an_unknown_time_point_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OUTCOMES_SCHEDULE = {"follow_up_days": {"3w": 21}}
    with pytest.raises(ImproperlyConfigured, match="3w"):
        schedule.outcome_schedule()


def test_a_patient_without_email_or_phone_gets_no_message_but_a_portal_request(frozen, patient, physician):
    from triggerpoint.notifications.models import Notification

    patient.email = ""
    patient.phone = ""
    patient.save()
    procedure = signed_procedure(patient, physician, DAY)
    assert not Notification.objects.filter(kind="outcomes.request").exists()
    assert OutcomeRequest.objects.get(procedure=procedure, time_point="2w").channel == ""


def test_the_request_message_is_delivered_through_the_outbox_to_a_real_smtp_server(frozen, patient, physician, smtp_server):
    from triggerpoint.notifications import services as outbox

    signed_procedure(patient, physician, DAY)
    outbox.deliver_due(now=timezone.now() + timedelta(days=15))
    assert len(smtp_server.messages) == 1
    assert "how is your pain" in smtp_server.messages[0]["Subject"].lower()


def test_answers_are_scored_stored_and_complete_the_request(frozen, patient, physician):
    procedure = signed_procedure(patient, physician, DAY)
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    with freeze_time("2026-03-17 12:00:00"):
        created = services.answer_request(request, {"nrs_pain": {"now": 3, "average": 4, "worst": 6},
                                                    "percent_relief": {"relief": 60}, "pgic": {"change": 2},
                                                    "peg3": {"pain": 3, "enjoyment": 3, "activity": 3}}, "checkin")
    assert {m.instrument: m.score for m in created} == {"nrs_pain": 4, "percent_relief": 60, "pgic": 2, "peg3": 3}
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    outcome = ProcedureOutcome.objects.get(procedure=procedure)
    assert outcome.relief_2w == 60 and outcome.pain_2w == 3 and outcome.responder_2w is True


def test_bad_answers_are_refused_with_every_problem_listed(frozen, patient, physician):
    procedure = signed_procedure(patient, physician, DAY)
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    with freeze_time("2026-03-17 12:00:00"), pytest.raises(RuleInputError) as error:
        services.answer_request(request, {"nrs_pain": {"now": 11, "nope": 1}, "percent_relief": {"relief": "lots"}}, "checkin")
    text = " ".join(error.value.problems)
    assert "out of range" in text and "unknown items" in text and "not a number" in text
    assert not Measurement.objects.filter(request=request).exists()


def test_a_request_cannot_be_answered_before_it_is_due_or_after_it_closes(frozen, patient, physician):
    procedure = signed_procedure(patient, physician, DAY)
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    with freeze_time("2026-03-15 12:00:00"), pytest.raises(RuleInputError, match="opens on"):
        services.answer_request(request, {"nrs_pain": {"now": 3}}, "portal")
    with freeze_time("2026-03-31 12:00:00"), pytest.raises(RuleInputError, match="closed on"):
        services.answer_request(request, {"nrs_pain": {"now": 3}}, "portal")
    with freeze_time("2026-03-30 12:00:00"):
        services.answer_request(request, COMPLETE_ANSWERS, "portal")


def test_recording_writes_an_audit_event(frozen, patient, physician):
    from triggerpoint.audit.models import AuditEvent

    procedure = signed_procedure(patient, physician, DAY)
    answer(procedure, "other", days=0, pain=5)
    event = AuditEvent.objects.filter(action="outcomes.measurement.recorded").latest("id")
    assert event.patient_id == patient.pk and event.details["instruments"] == ["nrs_pain"]


def test_a_diary_entry_is_linked_to_the_procedure_it_follows_and_shortens_relief(patient, physician):
    with freeze_time("2026-03-02 16:00:00"):
        procedure = signed_procedure(patient, physician, DAY, pre=7)
        answer(procedure, "2w", days=14, pain=2, relief=70)
    with freeze_time("2026-03-25 15:00:00"):
        entry = services.record_diary_entry(patient, {"now": 7})
    assert entry.procedure_id == procedure.pk and entry.time_point == "diary" and entry.source == "portal"
    outcome = ProcedureOutcome.objects.get(procedure=procedure)
    assert outcome.relief_days == 23 and outcome.relief_event is True


def test_a_diary_entry_long_after_any_procedure_stands_alone(patient, physician):
    with freeze_time("2026-03-02 16:00:00"):
        signed_procedure(patient, physician, DAY)
    with freeze_time("2026-09-01 15:00:00"):
        entry = services.record_diary_entry(patient, {"now": 4})
    assert entry.procedure_id is None


def test_a_new_procedure_closes_the_follow_up_window_of_the_previous_one(patient, physician):
    with freeze_time("2026-03-02 16:00:00"):
        first = signed_procedure(patient, physician, DAY, pre=7)
        answer(first, "2w", days=14, pain=2, relief=70)
        answer(first, "6w", days=42, pain=2, relief=70)
    assert ProcedureOutcome.objects.get(procedure=first).relief_days == 42
    with freeze_time("2026-04-01 16:00:00"):
        signed_procedure(patient, physician, date(2026, 4, 1))
    # the 6-week answer came after the next procedure: it no longer counts for the first one
    assert ProcedureOutcome.objects.get(procedure=first).relief_days == 14


# ----------------------------------------------------------------------------- repeat decision
def test_repeat_decision_uses_documented_relief_duration_and_function(patient, physician):
    with freeze_time("2026-01-05 16:00:00"):
        procedure = signed_procedure(patient, physician, date(2026, 1, 5), sites=(("upper_trapezius", "left"),))
        services.record_measurements(patient=patient, instrument_answers={"peg3": {"pain": 8, "enjoyment": 8, "activity": 8}},
                                     time_point="baseline", source="clinic", procedure=procedure)
        answer(procedure, "2w", days=14, pain=2, relief=70)
        answer(procedure, "6w", days=42, pain=3, relief=60)
        at = timezone.now() + timedelta(days=42)
        services.record_measurements(patient=patient, instrument_answers={"peg3": {"pain": 3, "enjoyment": 3, "activity": 4}},
                                     time_point="6w", source="clinic", procedure=procedure, measured_at=at)
    decision = services.repeat_decision_for(patient, date(2026, 3, 2), ["cervical"], "medicare_lcd")
    by_rule = {f.rule: f.severity for f in decision.findings}
    assert by_rule["RPT-RELIEF-50"] == "met"
    assert by_rule["RPT-RELIEF-6W"] == "met"  # censored at day 42 with relief still at 60%
    assert by_rule["RPT-FUNCTION-50"] == "met"
    assert by_rule["RPT-INTERVAL-6W"] == "met"
    assert decision.eligible


def test_repeat_decision_refuses_a_repeat_too_soon_and_without_documentation(patient, physician):
    with freeze_time("2026-01-05 16:00:00"):
        signed_procedure(patient, physician, date(2026, 1, 5), sites=(("quadratus_lumborum", "left"),))
    decision = services.repeat_decision_for(patient, date(2026, 2, 1), ["lumbar"], "medicare_lcd")
    by_rule = {f.rule: f.severity for f in decision.findings}
    assert not decision.eligible
    assert by_rule["RPT-INTERVAL-6W"] == "not_met" and by_rule["RPT-RELIEF-50"] == "not_met"


def test_repeat_decision_lists_unknown_regions_and_payers(patient):
    with pytest.raises(RuleInputError):
        services.repeat_decision_for(patient, date(2026, 2, 1), ["neck"], "medicare_lcd")
    with pytest.raises(RuleInputError, match="unknown repeat policy"):
        services.repeat_decision_for(patient, date(2026, 2, 1), ["cervical"], "acme")


# ---------------------------------------------------------------- questionnaires nobody answered


def _two_week_request(patient, physician):
    procedure = signed_procedure(patient, physician, DAY)
    return procedure, OutcomeRequest.objects.get(procedure=procedure, time_point="2w")


def test_an_unanswered_request_expires_the_day_after_its_last_answer_day(frozen, patient, physician):
    from triggerpoint.audit.models import AuditEvent

    _, request = _two_week_request(patient, physician)
    last_day = request.answer_by  # New York clinic; noon there is 16:00 or 17:00 UTC
    with freeze_time(f"{last_day.isoformat()} 16:00:00"):
        assert outcome_requests.expire_lapsed_requests() == 0
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    with freeze_time(f"{(last_day + timedelta(days=1)).isoformat()} 16:00:00"):
        assert outcome_requests.expire_lapsed_requests() == 1
        assert outcome_requests.expire_lapsed_requests() == 0  # idempotent: a second worker finds nothing
    request.refresh_from_db()
    assert request.status == RequestStatus.EXPIRED
    later = OutcomeRequest.objects.filter(procedure=request.procedure, time_point__in=["6w", "12w"])
    assert set(later.values_list("status", flat=True)) == {RequestStatus.PENDING}
    event = AuditEvent.objects.get(action="outcomes.request.expired")
    assert event.patient_id == patient.pk and event.details["time_point"] == "2w"


def test_expiry_follows_the_clinic_calendar_not_utc(frozen, patient, physician):
    _, request = _two_week_request(patient, physician)
    next_day = request.answer_by + timedelta(days=1)
    # 02:30 UTC on the next day is still the evening of the last answer day in New York.
    with freeze_time(f"{next_day.isoformat()} 02:30:00"):
        assert outcome_requests.expire_lapsed_requests() == 0
    with freeze_time(f"{next_day.isoformat()} 05:30:00"):  # after midnight in New York
        assert outcome_requests.expire_lapsed_requests() == 1


def test_answered_requests_never_expire(frozen, patient, physician):
    procedure, request = _two_week_request(patient, physician)
    answer(procedure, "2w", days=14, pain=3)
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    with freeze_time(f"{(request.answer_by + timedelta(days=30)).isoformat()} 16:00:00"):
        outcome_requests.expire_lapsed_requests()
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


def test_the_worker_sweep_expires_lapsed_requests(frozen, patient, physician):
    import io

    from django.core.management import call_command

    _, request = _two_week_request(patient, physician)
    out = io.StringIO()
    with freeze_time(f"{(request.answer_by + timedelta(days=1)).isoformat()} 16:00:00"):
        call_command("worker", "--once", stdout=out)
    assert "'expired_outcome_requests': 1" in out.getvalue()
