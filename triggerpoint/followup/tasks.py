"""Background tasks of follow-up (django-tasks, run by `triggerpoint worker`).

`escalate_alert_when_due` is enqueued with `run_after` = the alert's acknowledgement
deadline each time the alert is paged. `followup_sweep` catches anything a lost task
missed and closes expired check-ins; run it periodically (`triggerpoint followup_sweep
--every 60`, or enqueue the task from any scheduler).
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from triggerpoint.followup import services


@task()
def escalate_alert_when_due(alert_id: int) -> str:
    from triggerpoint.followup.models import Alert, AlertStatus

    now = timezone.now()
    escalated = services.escalate_alert(alert_id, now)
    if escalated is not None:
        return f"escalated to level {escalated.escalation_level}"
    alert = Alert.objects.filter(pk=alert_id).only("status", "next_escalation_at").first()
    if alert is not None and alert.status == AlertStatus.OPEN and alert.next_escalation_at and alert.next_escalation_at > now:
        # Ran early (clock skew between workers): look again at the deadline.
        services.schedule_escalation_task(alert_id, alert.next_escalation_at)
        return "rescheduled"
    return "nothing to do"


@task()
def followup_sweep() -> dict[str, int]:
    return services.sweep()
