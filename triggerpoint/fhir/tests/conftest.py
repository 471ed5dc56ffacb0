"""Fixtures of the FHIR tests."""

from __future__ import annotations

import pytest

from triggerpoint.fhir.tests import validator


@pytest.fixture(scope="session")
def fhir_validator():
    """The independent FHIR validators (Medplum + FHIR.js on Node). Skips, saying why, without Node or
    the npm packages; fails instead when TRIGGERPOINT_REQUIRE_NODE=1 (CI)."""
    validator.require()
    yield validator
    validator.shutdown()
