"""The clinic admin's account services: each rule from both sides, and every change audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from triggerpoint.accounts import mfa, services
from triggerpoint.accounts.models import ApiToken, EnrolmentLink, User, hash_token
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff, totp_now
from triggerpoint.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _new_user(admin, username="new.nurse", roles=("nurse",)):
    return services.create_staff_user(admin, username=username, email=f"{username}@clinic.example", roles=roles,
                                      first_name="New", last_name="Nurse")


def _raw_from(notification: Notification) -> str:
    return re.search(r"/accounts/enrol/([^/\s]+)/", notification.body).group(1)


def _with_email(user):
    user.email = f"{user.username}@clinic.example"
    user.save(update_fields=["email"])
    return user


def _events(action, **details):
    events = AuditEvent.objects.filter(action=action)
    return [e for e in events if all(e.details.get(k) == v for k, v in details.items())]


# ------------------------------------------------------------------ create
def test_a_new_staff_user_has_no_password_and_gets_an_emailed_one_time_link(clinic_admin):
    user = _new_user(clinic_admin, roles=["nurse", "front_desk"])
    assert user.clinic_id == clinic_admin.clinic_id and user.roles == {"nurse", "front_desk"}
    assert not user.has_usable_password()
    note = Notification.objects.get(recipient_user=user)
    assert note.channel == "email" and note.to == "new.nurse@clinic.example" and note.kind == "accounts.enrolment"
    raw = _raw_from(note)
    link = EnrolmentLink.objects.get(user=user)
    assert link.token_hash == hash_token(raw) and raw not in link.token_hash and link.is_open
    assert link.purpose == "invite" and link.created_by == clinic_admin
    [event] = _events("accounts.user.created", username="new.nurse")
    assert event.actor == clinic_admin and event.details["roles"] == ["front_desk", "nurse"]
    assert event.clinic_id == clinic_admin.clinic_id


@pytest.mark.parametrize(("field", "value", "message"), [
    ("username", "Carla.Admin", "is taken"),  # case-insensitive duplicate of the admin's own username
    ("username", "no spaces allowed", "letters, digits"),
    ("email", "not-an-email", "valid email"),
    ("roles", [], "at least one role"),
    ("roles", ["superuser"], "Unknown role"),
])
def test_a_new_user_is_refused_with_a_reason_and_nothing_is_written(clinic_admin, field, value, message):
    data = {"username": "fine.name", "email": "fine@clinic.example", "roles": ["nurse"], field: value}
    with pytest.raises(services.Refused, match=message):
        services.create_staff_user(clinic_admin, **data)
    assert not User.objects.filter(username="fine.name").exists()
    assert not Notification.objects.exists() and not _events("accounts.user.created")


def test_only_a_clinic_admin_may_add_users(physician):
    with pytest.raises(PermissionDenied):
        _new_user(physician)
    assert not User.objects.filter(username="new.nurse").exists()


# ------------------------------------------------------------------ roles
def test_roles_are_changed_and_the_change_is_audited_with_before_and_after(clinic_admin, nurse):
    assert services.change_roles(clinic_admin, nurse, ["nurse", "physician"]) is True
    assert User.objects.get(pk=nurse.pk).roles == {"nurse", "physician"}
    [event] = _events("accounts.user.roles_changed")
    assert event.details["before"] == ["nurse"] and event.details["after"] == ["nurse", "physician"]


def test_saving_the_same_roles_changes_and_audits_nothing(clinic_admin, nurse):
    assert services.change_roles(clinic_admin, nurse, ["nurse"]) is False
    assert not _events("accounts.user.roles_changed")


def test_an_account_keeps_at_least_one_role(clinic_admin, nurse):
    with pytest.raises(services.Refused, match="at least one role"):
        services.change_roles(clinic_admin, nurse, [])
    assert User.objects.get(pk=nurse.pk).roles == {"nurse"}


def test_the_only_admin_cannot_remove_their_own_admin_role_but_may_add_one(clinic_admin):
    with pytest.raises(services.Refused, match="your own clinic admin role"):
        services.change_roles(clinic_admin, clinic_admin, ["physician"])
    assert User.objects.get(pk=clinic_admin.pk).roles == {"clinic_admin"}
    assert services.change_roles(clinic_admin, clinic_admin, ["clinic_admin", "physician"]) is True


def test_another_admin_may_remove_an_admin_role(clinic_admin, clinic_a):
    second = make_staff("second.admin", "clinic_admin", clinic_a)
    assert services.change_roles(clinic_admin, second, ["physician"]) is True
    assert User.objects.get(pk=second.pk).roles == {"physician"}


def test_another_clinics_user_is_not_found_and_a_non_admin_is_forbidden(clinic_admin, physician, physician_b):
    with pytest.raises(Http404):
        services.change_roles(clinic_admin, physician_b, ["nurse"])
    with pytest.raises(PermissionDenied):
        services.change_roles(physician, clinic_admin, ["nurse"])
    assert User.objects.get(pk=physician_b.pk).roles == {"physician"}


# ------------------------------------------------------------------ deactivate
def test_deactivating_stops_sign_in_and_revokes_tokens_and_open_links(clinic_admin, nurse, client, login_as):
    token, raw = ApiToken.issue(nurse, "sync")
    services.reset_second_factor(clinic_admin, _with_email(nurse))  # an open enrolment link
    login_as(nurse)
    assert services.deactivate(clinic_admin, nurse) is True
    nurse.refresh_from_db()
    assert not nurse.is_active
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not EnrolmentLink.objects.open().filter(user=nurse).exists()
    assert client.get("/patients/").status_code == 302  # the open session no longer counts
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    [event] = _events("accounts.user.deactivated", username=nurse.username)
    assert event.details["tokens_revoked"] == [token.prefix] and event.actor == clinic_admin


def test_an_admin_cannot_deactivate_themselves(clinic_admin):
    with pytest.raises(services.Refused, match="your own account"):
        services.deactivate(clinic_admin, clinic_admin)
    assert User.objects.get(pk=clinic_admin.pk).is_active


def test_deactivating_twice_is_audited_once_and_reactivating_lets_them_back(clinic_admin, nurse):
    assert services.deactivate(clinic_admin, nurse) is True
    assert services.deactivate(clinic_admin, nurse) is False
    assert len(_events("accounts.user.deactivated")) == 1
    assert services.reactivate(clinic_admin, nurse) is True
    assert User.objects.get(pk=nurse.pk).is_active
    assert len(_events("accounts.user.reactivated")) == 1


def test_another_clinics_user_cannot_be_deactivated(clinic_admin, physician_b):
    with pytest.raises(Http404):
        services.deactivate(clinic_admin, physician_b)
    assert User.objects.get(pk=physician_b.pk).is_active


# ------------------------------------------------------------------ second factor
def test_a_reset_removes_the_devices_and_emails_a_new_link_that_replaces_the_old(clinic_admin, nurse):
    _with_email(nurse)
    first = services.reset_second_factor(clinic_admin, nurse)
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    second = services.reset_second_factor(clinic_admin, nurse)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.is_open and second.purpose == "second_factor_reset"
    assert Notification.objects.filter(recipient_user=nurse).count() == 2
    events = _events("accounts.second_factor.reset", username=nurse.username)
    assert sorted(e.details["devices_removed"] for e in events) == [0, 1]


def test_an_admin_cannot_reset_their_own_second_factor(clinic_admin):
    with pytest.raises(services.Refused, match="your own second factor"):
        services.reset_second_factor(clinic_admin, clinic_admin)
    assert TOTPDevice.objects.filter(user=clinic_admin, confirmed=True).exists()


def test_an_account_without_an_email_address_cannot_be_reset(clinic_admin, nurse):
    with pytest.raises(services.Refused, match="no email address"):
        services.reset_second_factor(clinic_admin, nurse)
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_a_deactivated_account_gets_no_enrolment_link(clinic_admin, nurse):
    _with_email(nurse)
    services.deactivate(clinic_admin, nurse)
    with pytest.raises(services.Refused, match="reactivate"):
        services.reset_second_factor(clinic_admin, nurse)
    assert not EnrolmentLink.objects.filter(user=nurse).exists()


# ------------------------------------------------------------------ tokens
@pytest.mark.parametrize(("days", "allowed"), [(0, False), (1, True), (365, True), (366, False), (None, True)])
def test_token_lifetimes_are_bounded(clinic_admin, nurse, days, allowed):
    if not allowed:
        with pytest.raises(services.Refused):
            services.create_token(clinic_admin, nurse, name="sync", expires_days=days)
        assert not ApiToken.objects.exists()
        return
    token, raw = services.create_token(clinic_admin, nurse, name="sync", expires_days=days)
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash and token.user == nurse
    [event] = _events("accounts.token.issued", via="web")
    assert event.details["token"] == token.prefix and event.actor == clinic_admin


def test_a_deactivated_account_gets_no_token(clinic_admin, nurse):
    services.deactivate(clinic_admin, nurse)
    with pytest.raises(services.Refused):
        services.create_token(clinic_admin, nurse, name="sync", expires_days=30)


def test_revoking_is_audited_once(clinic_admin, nurse):
    token, _raw = ApiToken.issue(nurse, "sync")
    assert services.revoke_token(clinic_admin, token) is True
    assert services.revoke_token(clinic_admin, token) is False
    assert len(_events("accounts.token.revoked", token=token.prefix)) == 1


def test_another_clinics_token_cannot_be_revoked(clinic_admin, physician_b):
    token, _raw = ApiToken.issue(physician_b, "theirs")
    with pytest.raises(Http404):
        services.revoke_token(clinic_admin, token)
    token.refresh_from_db()
    assert token.revoked_at is None


# ------------------------------------------------------------------ enrolment
@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # django-otp's own back-off is django-otp's to test
def test_enrolment_confirms_the_device_only_with_its_current_code(clinic_admin):
    user = _new_user(clinic_admin)
    link = services.open_enrolment(_raw_from(Notification.objects.get(recipient_user=user)))
    device = mfa.pending_totp(user)  # what the enrolment page shows
    with pytest.raises(services.Refused, match="not right"):
        services.complete_enrolment(link, code="000000", new_password="a long enough passphrase")
    device.refresh_from_db()
    user.refresh_from_db()
    assert not device.confirmed and not user.has_usable_password() and link.is_open
    services.complete_enrolment(link, code=totp_now(user), new_password="a long enough passphrase")
    device.refresh_from_db()
    user.refresh_from_db()
    assert device.confirmed and user.check_password("a long enough passphrase")
    link.refresh_from_db()
    assert link.used_at is not None
    assert _events("accounts.second_factor.enrolled", purpose="invite")


def test_a_used_expired_or_unknown_link_does_not_open(clinic_admin):
    user = _new_user(clinic_admin)
    raw = _raw_from(Notification.objects.get(recipient_user=user))
    assert services.open_enrolment(raw).user == user
    EnrolmentLink.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    for token in (raw, "unknown", "", "x" * 500):
        with pytest.raises(services.EnrolmentInvalid):
            services.open_enrolment(token)


def test_without_the_outbox_an_invitation_fails_loudly_and_leaves_no_account(clinic_admin, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setattr(services, "_staff_mailer", None)
    with pytest.raises(ImproperlyConfigured):
        _new_user(clinic_admin)
    assert not User.objects.filter(username="new.nurse").exists() and not EnrolmentLink.objects.exists()


def test_a_patients_portal_account_is_out_of_the_admins_scope(clinic_admin, patient):
    with pytest.raises(Http404):
        services.deactivate(clinic_admin, patient.portal_user)
    assert User.objects.get(pk=patient.portal_user_id).is_active
