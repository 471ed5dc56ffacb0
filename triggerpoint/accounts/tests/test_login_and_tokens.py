from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from triggerpoint.accounts.models import ApiToken
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import totp_now


def _login(client, user, code):
    return client.post("/accounts/login/", {"username": user.username, "password": "correct-horse-battery", "otp_token": code})


def test_staff_login_needs_the_authenticator_code(client, physician):
    response = _login(client, physician, "")
    assert response.status_code == 200
    assert "6-digit code" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_login_with_a_wrong_code_is_refused(client, physician):
    right = totp_now(physician)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = _login(client, physician, wrong)
    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_login_with_password_and_code_reaches_the_worklist(client, physician):
    response = _login(client, physician, totp_now(physician))
    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/worklist/"
    assert AuditEvent.objects.filter(action="accounts.session.signed_in", actor=physician).count() == 1


def test_patient_portal_login_needs_no_second_factor(client, patient):
    response = client.post("/accounts/login/", {"username": "pat.portal", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/portal/"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failed_logins_are_throttled(client, physician):
    for _ in range(3):
        client.post("/accounts/login/", {"username": physician.username, "password": "wrong", "otp_token": "000000"})
    response = _login(client, physician, totp_now(physician))
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_authenticator_codes_count_towards_the_throttle(client, physician):
    right = totp_now(physician)
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    for _ in range(3):
        _login(client, physician, wrong)
    assert _login(client, physician, right).status_code == 429


def test_staff_pages_require_the_second_factor_even_with_a_session(client, physician):
    client.force_login(physician)  # password only, no OTP verification
    response = client.get("/worklist/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_sessions_expire_after_thirty_idle_minutes(settings, physician, login_as):
    """Measured on the clock, so the shared cache's copy of the session expires with the database row."""
    from datetime import UTC, datetime, timedelta

    from freezegun import freeze_time

    assert settings.SESSION_COOKIE_AGE == 30 * 60
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with freeze_time(start) as clock:
        client = login_as(physician)
        assert client.get("/worklist/").status_code == 200
        clock.move_to(start + timedelta(minutes=30, seconds=1))
        response = client.get("/worklist/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_activity_pushes_the_idle_expiry_forward(settings, physician, login_as):
    from datetime import UTC, datetime, timedelta

    from freezegun import freeze_time

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with freeze_time(start) as clock:
        client = login_as(physician)
        clock.move_to(start + timedelta(minutes=20))  # past the touch interval: this visit renews the expiry
        assert client.get("/worklist/").status_code == 200
        clock.move_to(start + timedelta(minutes=45))  # 45 min after sign-in, 25 min idle
        assert client.get("/worklist/").status_code == 200
        clock.move_to(start + timedelta(minutes=45 + 30, seconds=1))  # now 30 min idle
        assert client.get("/worklist/").status_code == 302


def test_token_create_prints_the_secret_once_as_the_last_line(physician, client):
    out = io.StringIO()
    call_command("token", "create", physician.username, "--expires-days", "7", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(user=physician)
    assert raw.startswith("tpc_") and token.token_hash != raw and raw.startswith(token.prefix)
    response = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_revoked_and_expired_tokens_stop_working(physician, client):
    from datetime import timedelta

    from django.utils import timezone

    token, raw = ApiToken.issue(physician, "t")
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    out = io.StringIO()
    call_command("token", "revoke", token.prefix, stdout=out)
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    expired, raw2 = ApiToken.issue(physician, "old", expires_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw2}").status_code == 401


def test_clinic_admin_lists_and_revokes_tokens_of_their_clinic_only(clinic_admin, physician, physician_b, login_as):
    mine, _ = ApiToken.issue(physician, "mine")
    theirs, _ = ApiToken.issue(physician_b, "theirs")
    client = login_as(clinic_admin)
    page = client.get("/accounts/tokens/").content.decode()
    assert mine.prefix in page and theirs.prefix not in page
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # django-otp's per-device back-off is tested by django-otp
def test_api_token_endpoint_needs_password_and_code(client, physician):
    url = "/api/v1/auth/token"
    bad = client.post(url, {"username": physician.username, "password": "correct-horse-battery", "otp_token": "000000"},
                      content_type="application/json")
    assert bad.status_code == 401
    good = client.post(url, {"username": physician.username, "password": "correct-horse-battery",
                             "otp_token": totp_now(physician)}, content_type="application/json")
    assert good.status_code == 201
    raw = good.json()["token"]
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


@pytest.mark.parametrize("payload", ["{not json", '{"username": 5}', "[]"])
def test_api_token_endpoint_rejects_malformed_input_with_4xx(client, payload):
    response = client.post("/api/v1/auth/token", payload, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
