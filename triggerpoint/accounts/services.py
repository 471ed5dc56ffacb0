"""What a clinic admin does to the staff accounts of their clinic, and staff enrolment.

Every change is checked against the access policy (`user.manage`, `token.manage`), kept
inside the admin's own clinic, and written to the audit trail in the same transaction.

Guards (each tested on both sides):
- an admin cannot deactivate themselves, remove their own clinic-admin role or reset their
  own second factor: another clinic admin must do it. Because the acting admin is always an
  active clinic admin, this also means a clinic can never lose its last active admin here;
- a staff account always keeps at least one role (to take access away, deactivate it);
- enrolment links go to the account's email address, so an account needs one;
- a deactivated account gets no tokens and no enrolment link (reactivate it first);
  deactivating revokes its API tokens and open enrolment links at once.

Enrolment: a new account is created without a password; the emailed one-time link sets
the password and enrols the authenticator app in one step (the first sign-in). A reset
removes the devices and emails a new link; enrolling again needs the link and the current
password. The message goes through the outbox, which lives one layer up (notifications):
it provides the sender with `set_staff_mailer` at start-up, and a missing sender raises
instead of silently dropping the invitation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from triggerpoint.accounts import mfa
from triggerpoint.accounts.models import (
    STAFF_ROLES,
    ApiToken,
    EnrolmentLink,
    EnrolmentPurpose,
    Role,
    User,
    hash_token,
)
from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit

ENROLMENT_VALID_FOR = timedelta(days=3)
TOKEN_MAX_DAYS = 365  # as the API's token endpoint


class Refused(Exception):  # noqa: N818 - a refusal with a sentence for the admin, not a crash
    """A rule refuses the change; the message says why, in words for the clinic admin."""


class EnrolmentInvalid(Exception):  # noqa: N818
    """The enrolment link is unknown, used, withdrawn or expired (the page never says which account)."""


# ------------------------------------------------------------------ the outbox port
StaffMailer = Callable[..., Any]
_staff_mailer: StaffMailer | None = None


def set_staff_mailer(mailer: StaffMailer) -> None:
    """Called by the notifications app at start-up: `mailer(user=, kind=, subject=, body=, idempotency_key=)`."""
    global _staff_mailer
    _staff_mailer = mailer


def _email(user: User, *, kind: str, subject: str, body: str, idempotency_key: str) -> None:
    if _staff_mailer is None:
        raise ImproperlyConfigured("No staff mailer: is triggerpoint.notifications installed?")
    _staff_mailer(user=user, kind=kind, subject=subject, body=body, idempotency_key=idempotency_key)


def enrolment_url(raw_token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("accounts:enrol", args=[raw_token])


def _send_enrolment_link(admin: User, user: User) -> EnrolmentLink:
    """Withdraw the user's open links, issue a new one and queue the email (same transaction)."""
    EnrolmentLink.objects.open().filter(user=user).update(revoked_at=timezone.now())
    purpose = EnrolmentPurpose.SECOND_FACTOR_RESET if user.has_usable_password() else EnrolmentPurpose.INVITE
    link, raw = EnrolmentLink.issue(user, purpose, ENROLMENT_VALID_FOR, created_by=admin)
    clinic = user.clinic.name
    until = link.expires_at.astimezone(user.clinic.zone).strftime("%Y-%m-%d %H:%M %Z")  # the clinic's clock
    if purpose == EnrolmentPurpose.INVITE:
        subject = _("Your %(clinic)s account") % {"clinic": clinic}
        first = _("%(admin)s created a staff account for you at %(clinic)s. Your username is %(username)s.")
        step = _("Open this link to choose your password and set up your authenticator app:")
    else:
        subject = _("Set up your authenticator app again")
        first = _("%(admin)s reset the second factor of your %(clinic)s account (%(username)s).")
        step = _("Open this link, enter your password and set up your authenticator app again:")
    names = {"admin": admin.get_full_name() or admin.username, "clinic": clinic, "username": user.username}
    body = "\n\n".join([
        first % names,
        f"{step}\n{enrolment_url(raw)}",
        _("The link works once, until %(until)s. If you did not expect this message, tell your clinic admin.")
        % {"until": until},
    ])
    _email(user, kind="accounts.enrolment", subject=subject, body=body, idempotency_key=f"accounts.enrolment:{link.pk}")
    return link


# ------------------------------------------------------------------ checks
def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in STAFF_ROLES]
    if unknown:
        raise Refused(_("Unknown role: %(role)s.") % {"role": ", ".join(unknown)})
    if not chosen:
        raise Refused(_("Choose at least one role. To take all access away, deactivate the account."))
    return chosen


def _require_same_clinic_staff(admin: User, user: User, action: str = "user.manage") -> None:
    """The policy's answer for this admin and this account: 404 for another clinic, 403 for the role.

    A patient's portal account has no clinic, so it is out of every admin's scope (404) too.
    """
    require(admin, action, user)


def _set_roles(user: User, roles: list[str]) -> None:
    groups = [Group.objects.get_or_create(name=r)[0] for r in roles]
    user.groups.remove(*user.groups.filter(name__in=STAFF_ROLES).exclude(name__in=roles))
    user.groups.add(*groups)
    user._roles_cache = frozenset(roles)


# ------------------------------------------------------------------ the admin's actions
@transaction.atomic
def create_staff_user(admin: User, *, username: str, email: str, roles: Iterable[str],
                      first_name: str = "", last_name: str = "") -> User:
    """A staff account of the admin's clinic, without a password, and its emailed enrolment link."""
    require(admin, "user.manage")
    username = (username or "").strip()
    email = (email or "").strip()
    chosen = _clean_roles(roles)
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise Refused(_("Usernames use letters, digits and . @ + - _ only.")) from exc
    if not username or len(username) > 150:
        raise Refused(_("Enter a username of at most 150 characters."))
    if User.objects.filter(username__iexact=username).exists():
        raise Refused(_("The username %(username)s is taken.") % {"username": username})
    try:
        validate_email(email)
    except ValidationError as exc:
        raise Refused(_("Enter a valid email address: the enrolment link is sent there.")) from exc
    user = User(username=username, email=email, first_name=first_name.strip()[:150],
                last_name=last_name.strip()[:150], clinic=admin.clinic)
    user.set_unusable_password()
    user.save()
    _set_roles(user, chosen)
    link = _send_enrolment_link(admin, user)
    audit.record("accounts.user.created", obj=user, clinic=admin.clinic, actor=admin,
                 details={"username": username, "roles": chosen, "enrolment_expires": link.expires_at.isoformat()})
    return user


@transaction.atomic
def change_roles(admin: User, user: User, roles: Iterable[str]) -> bool:
    """Give `user` exactly `roles`; False when nothing changed (nothing is audited then)."""
    _require_same_clinic_staff(admin, user)
    chosen = _clean_roles(roles)
    before = sorted(User.objects.get(pk=user.pk).groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
    if user.pk == admin.pk and Role.CLINIC_ADMIN not in chosen:
        raise Refused(_("You cannot remove your own clinic admin role: ask another clinic admin."))
    if before == chosen:
        return False
    _set_roles(user, chosen)
    audit.record("accounts.user.roles_changed", obj=user, clinic=admin.clinic, actor=admin,
                 details={"username": user.username, "before": before, "after": chosen})
    return True


@transaction.atomic
def deactivate(admin: User, user: User) -> bool:
    """Stop the account: no sign-in, its sessions end, its API tokens and enrolment links are revoked."""
    _require_same_clinic_staff(admin, user)
    if user.pk == admin.pk:
        raise Refused(_("You cannot deactivate your own account: ask another clinic admin."))
    if not user.is_active:
        return False
    now = timezone.now()
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens = list(ApiToken.objects.usable().filter(user=user).values_list("prefix", flat=True))
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    links = EnrolmentLink.objects.open().filter(user=user).update(revoked_at=now)
    audit.record("accounts.user.deactivated", obj=user, clinic=admin.clinic, actor=admin,
                 details={"username": user.username, "tokens_revoked": tokens, "enrolment_links_withdrawn": links})
    return True


@transaction.atomic
def reactivate(admin: User, user: User) -> bool:
    """Let the account sign in again (its old API tokens stay revoked)."""
    _require_same_clinic_staff(admin, user)
    if user.is_active:
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record("accounts.user.reactivated", obj=user, clinic=admin.clinic, actor=admin,
                 details={"username": user.username})
    return True


@transaction.atomic
def reset_second_factor(admin: User, user: User) -> EnrolmentLink:
    """Remove the account's authenticator devices and email a new enrolment link.

    For an account that never finished enrolling this is "send the invitation again".
    """
    _require_same_clinic_staff(admin, user)
    if user.pk == admin.pk:
        raise Refused(_("You cannot reset your own second factor: ask another clinic admin."))
    if not user.is_active:
        raise Refused(_("This account is deactivated: reactivate it first."))
    if not user.email:
        raise Refused(_("This account has no email address to send the enrolment link to."))
    removed = mfa.remove_devices(user)
    link = _send_enrolment_link(admin, user)
    audit.record("accounts.second_factor.reset", obj=user, clinic=admin.clinic, actor=admin,
                 details={"username": user.username, "devices_removed": removed, "purpose": link.purpose,
                          "enrolment_expires": link.expires_at.isoformat()})
    return link


@transaction.atomic
def create_token(admin: User, user: User, *, name: str, expires_days: int | None) -> tuple[ApiToken, str]:
    """Issue an API token for a staff account of the clinic; the raw secret is returned once, never stored."""
    _require_same_clinic_staff(admin, user, "token.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Refused(_("Name the token (at most 100 characters), e.g. the system that will use it."))
    if expires_days is not None and not 1 <= expires_days <= TOKEN_MAX_DAYS:
        raise Refused(_("A token expires after 1 to %(max)s days.") % {"max": TOKEN_MAX_DAYS})
    if not user.is_active:
        raise Refused(_("This account is deactivated: reactivate it first."))
    token, raw = ApiToken.issue(user, name, expires_days)
    audit.record("accounts.token.issued", clinic=admin.clinic, actor=admin,
                 details={"token": token.prefix, "user": user.username, "via": "web"})
    return token, raw


@transaction.atomic
def revoke_token(admin: User, token: ApiToken) -> bool:
    """Revoke a token of the admin's clinic; False if it was already revoked."""
    require(admin, "token.manage", token.user)
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("accounts.token.revoked", clinic=admin.clinic, actor=admin,
                 details={"token": token.prefix, "user": token.user.username, "via": "web"})
    return True


# ------------------------------------------------------------------ enrolment (the staff member's side)
def open_enrolment(raw_token: str) -> EnrolmentLink:
    """The open link for this token, or EnrolmentInvalid."""
    if not raw_token or len(raw_token) > 200:
        raise EnrolmentInvalid
    link = EnrolmentLink.objects.select_related("user", "user__clinic").filter(token_hash=hash_token(raw_token)).first()
    if link is None or not link.is_open or not link.user.is_active:
        raise EnrolmentInvalid
    return link


@transaction.atomic
def complete_enrolment(link: EnrolmentLink, *, code: str, new_password: str | None = None):
    """Confirm the pending authenticator with its first code, set the first password, use up the link.

    The caller has checked the current password (a reset) through `authenticate`, so failed
    guesses are throttled and audited like any sign-in. Returns the confirmed device.
    """
    link = EnrolmentLink.objects.select_for_update().select_related("user").get(pk=link.pk)
    if not link.is_open:
        raise EnrolmentInvalid
    user = link.user
    if not user.has_usable_password() and not new_password:
        raise Refused(_("Choose a password."))
    device = mfa.pending_totp(user)
    if not mfa.verify_pending(device, code):
        raise Refused(_("That code is not right. Enter the 6 digits your app shows now (they change every 30 seconds)."))
    if new_password:
        user.set_password(new_password)
        user.save(update_fields=["password"])
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    now = timezone.now()
    link.used_at = now
    link.save(update_fields=["used_at"])
    EnrolmentLink.objects.open().filter(user=user).update(revoked_at=now)
    audit.record("accounts.second_factor.enrolled", obj=user, clinic=user.clinic, actor=user,
                 details={"username": user.username, "purpose": link.purpose})
    return device


def lock_account(user: User) -> None:
    """Lock the account's row until the caller's transaction ends (PostgreSQL; SQLite writes are serial anyway):
    another app serialises its own changes per person (a clinician's bookings) on it."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
