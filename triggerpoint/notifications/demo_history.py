"""A believable delivery history for the demo's messages (`triggerpoint demo` only, never the clinic).

The demo signs every note "now", even for sessions days ago, so messages whose time has passed
were written as waiting or as missed ("too late"). A real clinic would have sent them; this
rewrites that history: those messages sent, one that gave up, one still retrying. Future
messages stay waiting for the worker.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from triggerpoint.notifications.choices import Status
from triggerpoint.notifications.models import Notification

COUNTED = (Status.SENT, Status.PENDING, Status.FAILED, Status.CANCELLED)


def rewrite_past(related_label: str, related_ids: Iterable[str], *, now: datetime, rng: random.Random,
                 too_late_reason: str) -> dict[str, int]:
    """Rewrite the past messages about these records (waiting, or cancelled with `too_late_reason`) as
    delivered, but for one given up and one retrying; returns the messages' counts by status
    (sent, pending, failed, cancelled)."""
    messages = Notification.objects.filter(related_type=related_label, related_id__in=[str(i) for i in related_ids])
    past = messages.filter(send_after__lte=now).filter(
        Q(status=Status.PENDING) | Q(status=Status.CANCELLED, last_error=too_late_reason)
    )
    past_ids = list(past.order_by("send_after", "id").values_list("pk", flat=True))
    troubled = rng.sample(past_ids, k=min(2, len(past_ids)))
    sent_ids = [pk for pk in past_ids if pk not in troubled]
    for pk, send_after in Notification.objects.filter(pk__in=sent_ids).values_list("pk", "send_after"):
        Notification.objects.filter(pk=pk).update(
            status=Status.SENT, attempts=1, sent_at=send_after + timedelta(seconds=rng.randint(2, 40)), last_error=""
        )
    if troubled:
        Notification.objects.filter(pk=troubled[0]).update(
            status=Status.FAILED, attempts=12, last_error="SMTPRecipientsRefused: 550 mailbox unavailable (demo)"
        )
    if len(troubled) > 1:
        # Retrying: the worker started by scripts/run delivers it at its next attempt.
        Notification.objects.filter(pk=troubled[1]).update(
            status=Status.PENDING,
            attempts=2,
            next_attempt_at=now + timedelta(minutes=5),
            last_error="ConnectionRefusedError: [Errno 111] Connection refused (demo)",
        )
    return {
        status: Notification.objects.filter(pk__in=messages.values("pk"), status=status).count() for status in COUNTED
    }
