"""Schemathesis against the whole API of a living demo clinic, with its real ids, as a physician.

The schema walk in `test_api_bad_input.py` (and a 31,822-case random walk) found no 500
because random ids never reach a record: `GET /patients/{id}` was a 500 for every patient
with a risk factor. `fuzz_support.fuzz_the_api` draws every path parameter from the demo
clinic's real, coherent ids and checks every response against /api/v1/openapi.json.
The other roles and the portal patient are fuzzed in `test_api_fuzz_every_role.py`.

The run is bounded (`TRIGGERPOINT_FUZZ_EXAMPLES` cases per operation, default 12) and prints
its figures: `pytest -s -k fuzz` on SQLite, and with `DATABASE_URL=postgres://…` on PostgreSQL.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("TRIGGERPOINT_FUZZ_EXAMPLES", "12"))


def test_fuzz_the_api_with_the_demo_clinics_real_ids(demo_clinic, wsgi_without_connection_reset, settings):
    from django.db import connection

    from triggerpoint.core.tests.fuzz_support import fuzz_the_api

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    figures, failures = fuzz_the_api(demo_clinic, wsgi_without_connection_reset, demo_clinic.staff["dr.rivera"], EXAMPLES)

    print(f"\nAPI fuzz with real ids on {connection.vendor}: {dict(sorted(figures.items()))}; "
          f"{len(failures)} operations failed a check")
    assert figures["operations"] >= 60 and figures["cases"] >= figures["operations"]
    assert not failures, "\n\n".join(f"{label}\n{why}" for label, why in sorted(failures.items()))
