"""First sign-in from the emailed link: the password and the authenticator app, through real SMTP."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from triggerpoint.accounts import mfa, services
from triggerpoint.accounts.models import User
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import totp_now
from triggerpoint.notifications.services import deliver_due

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def _body(message) -> str:
    part = message if not message.is_multipart() else message.get_payload(0)
    return part.get_payload(decode=True).decode()


def _emailed_path(smtp_server, to: str) -> str:
    assert deliver_due().get("sent") == 1
    [message] = [m for m in smtp_server.messages if m["To"] == to]
    smtp_server.messages.clear()
    return re.search(r"https?://[^/\s]+(/accounts/enrol/[^/\s]+/)", _body(message)).group(1)


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_a_new_user_sets_a_password_and_enrols_from_the_emailed_link(clinic_admin, login_as, smtp_server, client):
    login_as(clinic_admin).post("/accounts/users/new/", {
        "first_name": "Ana", "last_name": "Ruiz", "username": "ana.ruiz", "email": "ana@clinic.example",
        "roles": ["nurse"]})
    client.logout()
    user = User.objects.get(username="ana.ruiz")
    path = _emailed_path(smtp_server, "ana@clinic.example")

    page = client.get(path)
    assert page.status_code == 200 and "Choose a password" in page.content.decode()
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed and "ana.ruiz" in page.content.decode()
    assert secret.replace(" ", "") == mfa.base32_secret(device)  # the key typed into the app is this device's
    assert secret and page["Cache-Control"].count("no-store")

    weak = client.post(path, {"new_password1": "password", "new_password2": "password", "code": totp_now(user)})
    assert weak.status_code == 400 and not User.objects.get(pk=user.pk).has_usable_password()
    wrong = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD, "code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert client.get("/worklist/").status_code == 302  # not signed in

    done = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD, "code": totp_now(user)})
    assert done.status_code == 302
    assert client.get("/worklist/").status_code == 200  # signed in, second factor verified
    device.refresh_from_db()
    user.refresh_from_db()
    assert device.confirmed and user.check_password(PASSWORD) and user.last_login is not None
    assert AuditEvent.objects.filter(action="accounts.second_factor.enrolled", actor=user).count() == 1
    assert AuditEvent.objects.filter(action="accounts.session.signed_in", actor=user, details__via="enrolment").exists()
    client.logout()
    assert client.get(path).status_code == 404  # one time only


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_after_a_reset_the_old_app_stops_and_the_link_plus_password_enrol_a_new_one(
    clinic_admin, nurse, login_as, smtp_server, client
):
    nurse.email = "nina@clinic.example"
    nurse.save()
    old_code = totp_now(nurse)
    admin = login_as(clinic_admin)
    assert admin.get(f"/accounts/users/{nurse.pk}/reset-second-factor/").status_code == 200
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()  # asking is not doing
    admin.post(f"/accounts/users/{nurse.pk}/reset-second-factor/")
    client.logout()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    path = _emailed_path(smtp_server, "nina@clinic.example")

    refused = client.post("/accounts/login/", {"username": nurse.username, "password": "correct-horse-battery",
                                               "otp_token": old_code})
    assert refused.status_code == 200 and "No authenticator app is set up" in refused.content.decode()

    page = client.get(path).content.decode()
    assert "Enter your password" in page and "Choose a password" not in page
    bad = client.post(path, {"password": "not-my-password", "code": totp_now(nurse)})
    assert bad.status_code == 400 and not TOTPDevice.objects.get(user=nurse).confirmed
    assert AuditEvent.objects.filter(action="accounts.session.sign_in_failed", details__username=nurse.username).exists()
    good = client.post(path, {"password": "correct-horse-battery", "code": totp_now(nurse)})
    assert good.status_code == 302 and client.get("/worklist/").status_code == 200
    assert TOTPDevice.objects.get(user=nurse).confirmed
    reset = AuditEvent.objects.get(action="accounts.second_factor.reset")
    assert reset.actor == clinic_admin and reset.details["devices_removed"] == 1


def test_a_deactivated_users_link_does_not_open(clinic_admin, smtp_server, client):
    user = services.create_staff_user(clinic_admin, username="ana.ruiz", email="ana@clinic.example", roles=["nurse"])
    path = _emailed_path(smtp_server, "ana@clinic.example")
    assert client.get(path).status_code == 200
    services.deactivate(clinic_admin, user)
    response = client.get(path)
    assert response.status_code == 404 and "ana.ruiz" not in response.content.decode()
