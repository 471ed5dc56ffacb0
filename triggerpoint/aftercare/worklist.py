"""Worklist: aftercare messages that are not getting through (retrying or given up).

"Reminders that silently fail" is the failure this product must not have: anything the
outbox could not deliver shows here until it is sent or a person has dealt with it.
"""

from __future__ import annotations

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare.services import MESSAGE_KINDS
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.notifications.selectors import undelivered_patient_messages

SHOWN = 20


def sections(user) -> list[WorklistSection]:
    if not user.clinic_id or not can(user, "reminder.view"):
        return []
    troubled = undelivered_patient_messages(user.clinic_id, MESSAGE_KINDS)
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
