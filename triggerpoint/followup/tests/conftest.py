"""Fixtures for the follow-up triage tests (pure: no database)."""

from __future__ import annotations

import pytest

from triggerpoint.followup.tests.helpers import FakeAtlas


@pytest.fixture
def fake_atlas() -> FakeAtlas:
    return FakeAtlas()
