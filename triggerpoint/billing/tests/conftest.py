"""Signed notes made the way a physician makes them (draft, autosave, sign), so their codes are the stored ones."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from freezegun import freeze_time

SERVICE_DAY = date(2026, 11, 20)

NOTE = {
    "procedure_date": SERVICE_DAY.isoformat(),
    "guidance": "landmark",
    "pre_nrs": 7, "post_nrs": 3, "observation_minutes": 15, "complications": [],
    "discharge_condition": "stable", "notes": "Patient tolerated well; spouse drove home.",
    "timeout_performed": "yes", "timeout_time": "14:05", "site_marked": "yes",
    "skin_prep_agent": "chlorhexidine_alcohol", "sterile_technique": "aseptic_no_touch",
    "payer": "medicare",
    "diagnosis_codes": ["M79.18"],
    "mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 2, "lot_number": "LD2291",
             "expiry": "2027-08-31"}],
    "sites": [
        {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 3},
        {"muscle": "upper_trapezius", "side": "right", "technique": "injection", "insertions": 2},
        {"muscle": "levator_scapulae", "side": "left", "technique": "injection", "insertions": 1},
    ],
}


@pytest.fixture
def sign_note(physician):
    """sign_note(patient, **changes) -> a signed Procedure, signed on the service day."""
    from django.urls import get_resolver

    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting, signing

    get_resolver().url_patterns  # noqa: B018 - import the views before the clock is frozen

    def _sign(patient, **changes):
        payload = copy.deepcopy(NOTE) | changes
        with freeze_time("2026-11-20 15:00:00"), acting_as(physician):
            draft = drafting.create_draft(physician, patient, procedure_date=SERVICE_DAY)
            draft = drafting.autosave_draft(physician, draft, draft.version, payload)
            return signing.sign_procedure(physician, draft, draft.version)

    return _sign
