"""Worklist: aftercare messages that are not getting through (retrying or given up).

"Reminders that silently fail" is the failure this product must not have: anything the
outbox could not deliver shows here until it is sent or a person has dealt with it.
"""

from __future__ import annotations

from django.db.models import Q

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare.services import MESSAGE_KINDS
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.notifications.models import Notification, Status

SHOWN = 20


def sections(user) -> list[WorklistSection]:
    if not user.clinic_id or not can(user, "reminder.view"):
        return []
    troubled = (
        Notification.objects.filter(clinic_id=user.clinic_id, kind__in=MESSAGE_KINDS, patient__isnull=False)
        .filter(Q(status=Status.FAILED) | Q(status=Status.PENDING, attempts__gt=0))
        .select_related("patient")
        .order_by("send_after")
    )
    count = troubled.count()
    if not count:
        return []
    return [
        WorklistSection(
            title="Aftercare messages not delivered",
            template="aftercare/_worklist_reminders.html",
            priority=15,
            context={"notifications": list(troubled[:SHOWN])},
            count=count,
        )
    ]
