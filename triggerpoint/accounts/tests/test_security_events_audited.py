"""Security events in the audit trail: failed sign-in, wrong second-factor code, lockout, sign-out."""

from __future__ import annotations

import pytest
from django.test import override_settings

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import totp_now

pytestmark = pytest.mark.django_db


def _post(client, username, password, code="", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, "otp_token": code}, **extra)


def test_a_wrong_password_is_audited_with_username_and_ip_never_the_password(client, physician):
    _post(client, physician.username, "Tr0ub4dor&3-secret", REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.get(action="accounts.session.sign_in_failed")
    assert event.actor == physician and event.clinic == physician.clinic  # the clinic admin sees it
    assert event.details["username"] == physician.username and event.details["client_ip"] == "203.0.113.9"
    stored = " ".join(str(v) for v in AuditEvent.objects.values_list("details", "actor_label", "object_id"))
    assert "Tr0ub4dor" not in stored


def test_an_unknown_username_is_audited_under_the_typed_name(client):
    _post(client, "=nobody", "whatever", REMOTE_ADDR="198.51.100.7")
    event = AuditEvent.objects.get(action="accounts.session.sign_in_failed")
    assert event.actor is None and event.actor_label == "=nobody" and event.clinic is None
    assert event.details["client_ip"] == "198.51.100.7"


def test_a_wrong_second_factor_code_is_its_own_event(client, physician):
    right = totp_now(physician)
    _post(client, physician.username, "correct-horse-battery", f"{(int(right) + 1) % 1_000_000:06d}")
    assert AuditEvent.objects.filter(action="accounts.second_factor.rejected", actor=physician).count() == 1
    assert not AuditEvent.objects.filter(action="accounts.session.sign_in_failed").exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_is_audited(client, physician):
    for _ in range(3):
        _post(client, physician.username, "wrong", "000000", REMOTE_ADDR="203.0.113.5")
    event = AuditEvent.objects.get(action="accounts.session.locked_out")
    assert event.actor == physician and event.details == {"username": physician.username, "client_ip": "203.0.113.5"}


def test_a_good_sign_in_and_sign_out_are_audited_and_no_failure_is(client, physician):
    _post(client, physician.username, "correct-horse-battery", totp_now(physician))
    client.post("/accounts/logout/")
    actions = list(AuditEvent.objects.filter(actor=physician).order_by("id").values_list("action", flat=True))
    assert actions == ["accounts.session.signed_in", "accounts.session.signed_out"]


def test_a_tokens_first_use_is_audited_once_with_the_client_ip(client, physician):
    from triggerpoint.accounts.models import ApiToken

    _row, raw = ApiToken.issue(physician, "EHR interface")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "REMOTE_ADDR": "10.1.2.3"}
    for _ in range(3):
        assert client.get("/api/v1/patients/", **headers).status_code == 200
    first = AuditEvent.objects.filter(action="accounts.token.first_used")
    assert first.count() == 1
    event = first.get()
    assert event.actor_id == physician.pk and event.details["token"] == "EHR interface"
    assert event.details["client_ip"] == "10.1.2.3"
