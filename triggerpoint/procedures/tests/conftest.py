"""Fixtures for the procedure-note tests: a dated weight, a draft, a complete three-muscle note."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from freezegun import freeze_time

PROCEDURE_DAY = date(2026, 11, 20)

THREE_MUSCLE_NOTE = {
    "procedure_date": PROCEDURE_DAY.isoformat(),
    "guidance": "landmark",
    "pre_nrs": 7,
    "post_nrs": 3,
    "observation_minutes": 15,
    "complications": [],
    "discharge_condition": "stable",
    "timeout_performed": "yes", "timeout_time": "14:05", "site_marked": "yes", "skin_prep_agent": "chlorhexidine_alcohol", "sterile_technique": "aseptic_no_touch",
    "mix": [
        {"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 2, "lot_number": "LD2291", "expiry": "2027-08-31"}
    ],
    "sites": [
        {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 3, "needle_gauge": 25,
         "needle_length_mm": 38, "local_twitch": True},
        {"muscle": "upper_trapezius", "side": "right", "technique": "injection", "insertions": 2},
        {"muscle": "levator_scapulae", "side": "left", "technique": "injection", "insertions": 1},
    ],
}


@pytest.fixture
def note_payload():
    """A complete three-muscle note: 3 sites x 2 mL of 1 % lidocaine = 60 mg."""
    return copy.deepcopy(THREE_MUSCLE_NOTE)


@pytest.fixture
def on_procedure_day():
    # Import every view module (and the C extensions they pull in, e.g. pyarrow) before the
    # clock is frozen: an extension imported under freezegun sees its fake date class.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - forces the URLconf imports
    with freeze_time("2026-11-20 15:00:00"):
        yield


@pytest.fixture
def draft(on_procedure_day, physician, patient):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting

    with acting_as(physician):
        return drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY)


@pytest.fixture
def saved_draft(draft, physician, note_payload):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting

    with acting_as(physician):
        return drafting.autosave_draft(physician, draft, draft.version, note_payload)


@pytest.fixture
def signed(saved_draft, physician):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import signing

    with acting_as(physician):
        return signing.sign_procedure(physician, saved_draft, saved_draft.version)


@pytest.fixture
def all_receivers():
    """Request this to keep every app's `procedure_signed` receiver (the integration tests)."""


@pytest.fixture(autouse=True)
def _only_procedures_receivers(request):
    """Unit tests of signing run without the other apps' receivers (they test those themselves).

    Tests that request `all_receivers` run the real chain: aftercare, follow-up, outcomes.
    """
    from triggerpoint.procedures.tests.signal_receivers import only_receivers

    if "all_receivers" in request.fixturenames:
        yield
        return
    with only_receivers():
        yield
