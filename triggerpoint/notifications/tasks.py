"""Background tasks (django-tasks): started by `triggerpoint worker`.

Thin entry points into ``services`` (which never imports this module: `NotificationsConfig.ready`
hands it `deliver_notification` to schedule). Their import paths are stored with queued tasks,
so they stay here.
"""

from __future__ import annotations

from django_tasks import task

from triggerpoint.notifications import services


@task()
def deliver_notification(notification_id: int) -> str:
    return services.deliver(notification_id)


@task()
def deliver_due_notifications() -> dict[str, int]:
    return services.deliver_due()
