"""The real-id API fuzz as every other role, the other clinic's physician and the portal patient.

Each role reaches different code: a nurse or the front desk is refused some operations and
not others, the analyst reads reports only, a physician of the other clinic must get a 404
for every id of this clinic (never a 500 and never a record), and the portal patient's token
sees only their own chart. One demo clinic serves all of them in turn, so the writes of one
role are the data of the next. Bounded by `TRIGGERPOINT_FUZZ_ROLE_EXAMPLES` cases per operation
and role (default 4); `pytest -s -k every_role` prints each role's figures.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("TRIGGERPOINT_FUZZ_ROLE_EXAMPLES", "4"))
ROLES = ("nurse.okafor", "desk.lopez", "analyst.kim", "admin.patel", "dr.berg", "patient.demo")


def test_fuzz_the_api_as_every_other_role_and_the_portal_patient(demo_clinic, wsgi_without_connection_reset, settings):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from triggerpoint.core.tests.fuzz_support import fuzz_the_api

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    users = get_user_model().objects.in_bulk(ROLES, field_name="username")
    assert set(users) == set(ROLES), "the demo clinic no longer has every role this test fuzzes"
    every_failure: dict[str, str] = {}
    totals: Counter = Counter()
    for username in ROLES:
        figures, failures = fuzz_the_api(demo_clinic, wsgi_without_connection_reset, users[username], EXAMPLES)
        print(f"\nAPI fuzz as {username} on {connection.vendor}: {dict(sorted(figures.items()))}; "
              f"{len(failures)} operations failed a check")
        assert figures["operations"] >= 60
        totals.update(figures)
        every_failure.update({f"{username}: {label}": why for label, why in failures.items()})
    assert totals["cases"] >= 6 * 60 and totals["status 5xx"] == 0
    assert not every_failure, "\n\n".join(f"{label}\n{why}" for label, why in sorted(every_failure.items()))
