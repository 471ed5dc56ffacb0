"""Fixtures for the follow-up tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from triggerpoint.followup.tests.factories import MONDAY, PERFORMED
from triggerpoint.followup.tests.helpers import FakeAtlas


@pytest.fixture
def fake_atlas() -> FakeAtlas:
    return FakeAtlas()


@pytest.fixture(scope="session", autouse=True)
def _urlconf_loaded_before_time_is_frozen():
    """Import every app's URLs (and what they import) with the real clock.

    Services build links with `reverse()`, which imports the URLconf on first use. If that
    first use happens under freezegun, C extensions imported by other apps' views (pyarrow)
    see freezegun's fake `datetime.date` and refuse to load.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point


@pytest.fixture
def procedure(patient, physician, clinic_a):
    """A procedure signed on MONDAY afternoon, with a nurse on call."""
    from triggerpoint.followup.tests.factories import rota, signed_procedure, staff

    rota(clinic_a, staff("nina.oncall", "nurse", clinic_a))
    return signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED)


@pytest.fixture
def checkins(procedure):
    from triggerpoint.followup.checkins import schedule_checkins

    with freeze_time(PERFORMED + timedelta(minutes=30)):
        return schedule_checkins(procedure)
