"""One assertion posted twice at the same moment: exactly one token (PostgreSQL).

Both requests are held after their checks so that both have verified the signature and claims
before either records the jti; the unique (client, jti) constraint alone must then refuse one.
"""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from triggerpoint.accounts import smart, smart_clients
from triggerpoint.accounts.models import SmartAccessToken, SmartAssertionUse
from triggerpoint.accounts.tests import smart_client_kit as kit
from triggerpoint.conftest import make_staff


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempts", [2, 4])
def test_a_replay_racing_the_first_use_gets_no_token(clinic_a, attempts):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's; SQLite serialises every write anyway")
    admin = make_staff("race.admin", "clinic_admin", clinic_a)
    key = kit.ec_key("race")
    registered = smart_clients.register_client(admin, name="Racer", keys=kit.public_jwks(key), scopes="system/*.read")
    body = kit.token_form(kit.sign(key, registered.client_id))
    real_check = smart._check_claims
    barrier = threading.Barrier(attempts)
    passed_checks = []

    def held_check(*args, **kwargs):
        real_check(*args, **kwargs)
        passed_checks.append(time.monotonic())
        barrier.wait(timeout=20)  # every request has verified the same assertion before any records its jti

    statuses: list[int] = []

    def post():
        try:
            statuses.append(kit.post_token(Client(), body).status_code)
        finally:
            connection.close()

    with mock.patch.object(smart, "_check_claims", held_check):
        threads = [threading.Thread(target=post) for _ in range(attempts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    print(f"\n{attempts} concurrent uses of one assertion: statuses {sorted(statuses)}")
    assert len(passed_checks) == attempts  # the race was real: all verified the assertion
    assert sorted(statuses) == [200] + [401] * (attempts - 1)
    assert SmartAccessToken.objects.count() == 1
    assert SmartAssertionUse.objects.count() == 1
