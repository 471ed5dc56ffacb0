"""Fixtures of the API fuzz tests (the demo clinic and the WSGI app they call)."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo_clinic(db):
    from triggerpoint.shell.demo_clinic import build_demo

    return build_demo(patients=40, seed=7)


@pytest.fixture
def wsgi_without_connection_reset():
    """Call the real WSGI app in this thread and test transaction (as Django's test client does)."""
    from django.core import signals
    from django.db import close_old_connections

    from triggerpoint.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
