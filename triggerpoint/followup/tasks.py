"""Background tasks of follow-up (django-tasks, run by `triggerpoint worker`).

`escalate_alert_when_due` is enqueued with `run_after` = the alert's acknowledgement
deadline each time the alert is paged. `followup_sweep` catches anything a lost task
missed and closes expired check-ins; run it periodically (`triggerpoint followup_sweep
--every 60`, or enqueue the task from any scheduler).

Imports run one way: this module imports the services (`followup.alerts`, `followup.checkins`),
never the reverse. Paging an alert must schedule the task defined here, so `followup.alerts`
is handed `schedule_escalation_task` at start-up (`FollowupConfig.ready`) instead of
importing this module back.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_tasks import task

from triggerpoint.followup import alerts
from triggerpoint.followup.checkins import mark_missed_checkins
from triggerpoint.followup.models import Alert, AlertStatus


def schedule_escalation_task(alert_id: int, deadline: datetime) -> None:
    """Queue the escalation check at the alert's deadline (the sweep catches a lost task)."""
    escalate_alert_when_due.using(run_after=deadline).enqueue(alert_id)


@task()
def escalate_alert_when_due(alert_id: int) -> str:
    now = timezone.now()
    escalated = alerts.escalate_alert(alert_id, now)
    if escalated is not None:
        return f"escalated to level {escalated.escalation_level}"
    alert = Alert.objects.filter(pk=alert_id).only("status", "next_escalation_at").first()
    if alert is not None and alert.status == AlertStatus.OPEN and alert.next_escalation_at and alert.next_escalation_at > now:
        # Ran early (clock skew between workers): look again at the deadline.
        alerts.schedule_escalation_task(alert_id, alert.next_escalation_at)
        return "rescheduled"
    return "nothing to do"


def sweep(now: datetime | None = None) -> dict[str, int]:
    """What the worker runs periodically: escalate overdue alerts, close expired check-ins."""
    now = now or timezone.now()
    return {"escalated": len(alerts.escalate_overdue_alerts(now)), "missed": mark_missed_checkins(now)}


@task()
def followup_sweep() -> dict[str, int]:
    return sweep()
