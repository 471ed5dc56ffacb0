"""The outbox's vocabularies: a message's channel and its delivery status.

Apart from the models so other apps can name a status or a channel (`Status.FAILED`) without
importing `notifications.models`; the models take their field choices from here.
"""

from __future__ import annotations

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    CANCELLED = "cancelled", "Cancelled"
    # The message carried a patient link that expired (or was revoked) before it could be
    # delivered: a dead link is worse than no message, so it is never sent.
    WITHDRAWN = "withdrawn", "Withdrawn (link no longer valid)"
