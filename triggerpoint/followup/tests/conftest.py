"""Fixtures for the follow-up tests."""

from __future__ import annotations

import pytest

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
