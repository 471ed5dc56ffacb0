"""Alert life cycle with frozen time: paged at once, escalated at the deadline, stopped by acknowledgement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.followup.alerts import (
    AlertStateError,
    acknowledge_alert,
    escalate_alert,
    escalate_overdue_alerts,
    resolve_alert,
)
from triggerpoint.followup.calls import add_call_note
from triggerpoint.followup.checkins import report_problem
from triggerpoint.followup.models import Alert, AnsweredVia, CallNote
from triggerpoint.followup.tests.factories import rota, signed_procedure, staff
from triggerpoint.notifications.models import Notification

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 16)
PERFORMED = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)
RAISED = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 21:00 New York on day 0


@pytest.fixture
def team(clinic_a):
    """Nurse first on call, then Dr Adams, then Dr Baker; Dr Surgeon did the procedure."""
    people = {
        "nurse": staff("nora.first", "nurse", clinic_a),
        "adams": staff("dr.adams", "physician", clinic_a),
        "baker": staff("dr.baker", "physician", clinic_a),
        "surgeon": staff("dr.surgeon", "physician", clinic_a),
    }
    rota(clinic_a, people["nurse"], people["adams"], people["baker"])
    return people


@pytest.fixture
def alert(team, patient):
    procedure = signed_procedure(patient, team["surgeon"], on=MONDAY, performed_at=PERFORMED)
    with freeze_time(RAISED):
        report_problem(procedure, {"symptoms": ["site_discharge"]}, via=AnsweredVia.PORTAL)
    return Alert.objects.get()


def paged_users(level: int) -> set[str]:
    """Who was paged at `level` (the level is the third part of the page's idempotency key)."""
    pages = Notification.objects.filter(kind="followup.page").values_list("idempotency_key", "recipient_user__username")
    return {username for key, username in pages if key.split(":")[2] == str(level)}


def test_an_urgent_alert_pages_the_first_person_on_call_at_once(alert):
    assert alert.status == "open" and alert.escalation_level == 0
    assert paged_users(0) == {"nora.first"}
    assert alert.next_escalation_at == RAISED + timedelta(minutes=15)


def test_nothing_escalates_a_second_before_the_15_minute_deadline(alert):
    assert escalate_overdue_alerts(RAISED + timedelta(minutes=15) - timedelta(seconds=1)) == []
    alert.refresh_from_db()
    assert alert.escalation_level == 0 and paged_users(1) == set()


def test_at_15_minutes_it_escalates_to_the_next_person_and_the_performing_physician(alert):
    deadline = RAISED + timedelta(minutes=15)
    with freeze_time(deadline):
        escalated = escalate_overdue_alerts(deadline)
    assert [a.pk for a in escalated] == [alert.pk]
    alert.refresh_from_db()
    assert alert.escalation_level == 1
    assert paged_users(1) == {"dr.adams", "dr.surgeon"}
    assert alert.next_escalation_at == deadline + timedelta(minutes=15)
    assert [(e["level"], e["user"], e["reason"]) for e in alert.page_log] == [
        (0, "nora.first", "on_call"), (1, "dr.adams", "next_on_call"), (1, "dr.surgeon", "performing_physician")]
    assert AuditEvent.objects.filter(action="followup.alert.escalated", object_id=str(alert.public_id)).count() == 1


def test_it_keeps_escalating_down_the_rota_then_pages_everyone(alert):
    moment = RAISED
    for _level in range(1, 4):
        moment += timedelta(minutes=15)
        escalate_overdue_alerts(moment)
    assert paged_users(2) == {"dr.baker", "dr.surgeon"}
    assert paged_users(3) == {"nora.first", "dr.adams", "dr.baker", "dr.surgeon"}


def test_the_deadline_task_and_the_sweep_escalate_only_once(alert):
    deadline = RAISED + timedelta(minutes=15)
    assert escalate_alert(alert.pk, deadline) is not None
    assert escalate_alert(alert.pk, deadline) is None
    assert escalate_overdue_alerts(deadline) == []
    alert.refresh_from_db()
    assert alert.escalation_level == 1


def test_acknowledging_stops_escalation(alert, team):
    with acting_as(team["nurse"]):
        acknowledge_alert(team["nurse"], alert, RAISED + timedelta(minutes=14))
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == team["nurse"]
    assert alert.next_escalation_at is None
    assert escalate_overdue_alerts(RAISED + timedelta(hours=2)) == []
    event = AuditEvent.objects.get(action="followup.alert.acknowledged")
    assert event.actor == team["nurse"] and event.details["minutes_after_raised"] == 14.0


def test_an_alert_is_acknowledged_once(alert, team):
    acknowledge_alert(team["nurse"], alert)
    with pytest.raises(AlertStateError, match="already acknowledged"):
        acknowledge_alert(team["adams"], Alert.objects.get(pk=alert.pk))


def test_the_acknowledgement_window_is_configurable_per_clinic(team, patient, clinic_a):
    rota(clinic_a, team["nurse"], team["adams"], minutes=5)
    procedure = signed_procedure(patient, team["surgeon"], on=MONDAY, performed_at=PERFORMED)
    with freeze_time(RAISED):
        report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL)
    alert = Alert.objects.get()
    assert alert.next_escalation_at == RAISED + timedelta(minutes=5)
    assert escalate_overdue_alerts(RAISED + timedelta(minutes=4, seconds=59)) == []
    assert len(escalate_overdue_alerts(RAISED + timedelta(minutes=5))) == 1


def test_an_escalation_task_is_queued_for_the_deadline(team, patient, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    procedure = signed_procedure(patient, team["surgeon"], on=MONDAY, performed_at=PERFORMED)
    default_task_backend.clear()
    with freeze_time(RAISED), django_capture_on_commit_callbacks(execute=True):
        report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL)
    alert = Alert.objects.get()
    queued = [r for r in default_task_backend.results if r.task.name == "escalate_alert_when_due"]
    assert len(queued) == 1
    assert queued[0].args == [alert.pk]
    assert queued[0].task.run_after == RAISED + timedelta(minutes=15)


def test_the_task_escalates_when_it_runs_at_the_deadline(alert):
    from triggerpoint.followup.tasks import escalate_alert_when_due

    with freeze_time(RAISED + timedelta(minutes=15)):
        assert escalate_alert_when_due.call(alert.pk) == "escalated to level 1"
    with freeze_time(RAISED + timedelta(minutes=16)):
        assert escalate_alert_when_due.call(alert.pk) == "rescheduled"


def test_resolving_needs_a_note_and_is_audited(alert, team):
    with pytest.raises(ValidationError):
        resolve_alert(team["adams"], alert, "   ")
    with acting_as(team["adams"]):
        resolve_alert(team["adams"], alert, "Called: pus at the site, seen in clinic at 08:00, cultures sent.")
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by == team["adams"]
    assert alert.acknowledged_by == team["adams"]  # an open alert is acknowledged by resolving it
    assert alert.checkin.reviewed_at is not None
    assert AuditEvent.objects.filter(action="followup.alert.resolved", actor=team["adams"]).count() == 1
    with pytest.raises(AlertStateError, match="already resolved"):
        resolve_alert(team["nurse"], alert, "again")


def test_a_call_note_about_an_open_alert_acknowledges_it(alert, team, patient):
    with acting_as(team["nurse"]):
        call = add_call_note(team["nurse"], patient, outcome="reached", note="Advised to come in.",
                                      alert=alert)
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == team["nurse"]
    assert call.checkin == alert.checkin and CallNote.objects.count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"followup.call_note.created", "followup.alert.acknowledged"} <= actions


def test_staff_of_another_clinic_and_front_desk_cannot_act_on_the_alert(alert, physician_b, front_desk):
    from django.http import Http404

    with pytest.raises(Http404):
        acknowledge_alert(physician_b, alert)
    with pytest.raises(PermissionDenied):
        acknowledge_alert(front_desk, alert)
    alert.refresh_from_db()
    assert alert.status == "open"
