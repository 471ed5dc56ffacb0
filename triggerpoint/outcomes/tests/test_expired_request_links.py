"""An outcome request whose answer window closed before the worker got to it is withdrawn, not mailed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.models import Notification, Status
from triggerpoint.outcomes.models import OutcomeRequest
from triggerpoint.outcomes.tests.factories import signed_procedure

DAY = date(2026, 3, 2)
pytestmark = pytest.mark.django_db


def test_a_two_week_request_delivered_after_its_link_expired_is_withdrawn(patient, physician, smtp_server):
    with freeze_time("2026-03-02 16:00:00"):
        procedure = signed_procedure(patient, physician, DAY)
        request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
        note = Notification.objects.get(kind="outcomes.request", related_id=str(request.public_id))
        assert note.link is not None and note.link.target_id == str(request.public_id)
        # The worker was down; it comes back long after the two-week answer window closed.
        counts = outbox.deliver_due(now=timezone.now() + timedelta(days=31))
    assert counts == {Status.WITHDRAWN: 1}
    assert smtp_server.messages == []
    note.refresh_from_db()
    assert note.status == Status.WITHDRAWN and note.sent_at is None
