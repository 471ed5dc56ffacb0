"""Signing a note through the procedures service schedules its check-ins, in the signing transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from triggerpoint.core.context import acting_as
from triggerpoint.followup.models import CheckIn
from triggerpoint.notifications.models import Notification

pytestmark = pytest.mark.django_db

NOTE = {
    "procedure_date": "2026-11-20", "guidance": "landmark", "pre_nrs": 7, "post_nrs": 3, "observation_minutes": 15,
    "complications": [], "discharge_condition": "stable",
    "timeout_performed": "yes", "timeout_time": "14:05", "site_marked": "yes", "skin_prep_agent": "chlorhexidine_alcohol", "sterile_technique": "aseptic_no_touch",
    "mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 2, "lot_number": "LD1", "expiry": "2027-08-31"}],
    "sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 2}],
}


@pytest.fixture
def only_followup_receiver():
    """Other apps' receivers are tested by their owners; keep ours so this test is about it."""
    from triggerpoint.procedures.tests.signal_receivers import only_receivers

    with only_receivers("followup.schedule_checkins"):  # fails when FollowupConfig.ready() did not connect it
        yield


def test_signing_a_note_schedules_four_check_ins_once(only_followup_receiver, physician, patient):
    from triggerpoint.procedures import drafting, signing

    with freeze_time(datetime(2026, 11, 20, 20, 0, tzinfo=UTC)), acting_as(physician):  # 15:00 New York
        draft = drafting.create_draft(physician, patient, procedure_date=date(2026, 11, 20))
        draft = drafting.autosave_draft(physician, draft, draft.version, NOTE)
        signed = signing.sign_procedure(physician, draft, draft.version)
    checkins = list(CheckIn.objects.filter(procedure=signed).order_by("day"))
    assert [c.day for c in checkins] == [0, 1, 3, 5]
    assert checkins[0].due_at == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    assert checkins[0].created_by == physician
    assert Notification.objects.filter(kind="followup.checkin", patient=patient).count() == 4


def test_a_failed_signature_leaves_no_check_ins(only_followup_receiver, physician, patient):
    from triggerpoint.procedures import drafting, signing

    incomplete = dict(NOTE, pre_nrs=None, post_nrs=None, discharge_condition="")
    with freeze_time(datetime(2026, 11, 20, 20, 0, tzinfo=UTC)), acting_as(physician):
        draft = drafting.create_draft(physician, patient, procedure_date=date(2026, 11, 20))
        draft = drafting.autosave_draft(physician, draft, draft.version, incomplete)
        with pytest.raises(signing.SigningBlocked):
            signing.sign_procedure(physician, draft, draft.version)
    assert not CheckIn.objects.exists()
