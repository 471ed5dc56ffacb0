"""Background tasks (django-tasks): started by `triggerpoint worker`."""

from __future__ import annotations

from django_tasks import task

from triggerpoint.notifications import services


@task()
def deliver_notification(notification_id: int) -> str:
    return services.deliver(notification_id)


@task()
def deliver_due_notifications() -> dict[str, int]:
    return services.deliver_due()
