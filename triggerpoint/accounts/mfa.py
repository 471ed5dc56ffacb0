"""TOTP second factor (django-otp): provisioning and verification."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice


def requires_second_factor(user) -> bool:
    """Staff always need a second factor; a patient only if they enrolled one."""
    return bool(user.clinic_id) or TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verify(user, token: str):
    """The confirmed device that accepts `token`, or None."""
    token = (token or "").replace(" ", "")
    if not token.isdigit():
        return None
    return match_token(user, token)


def provision_totp(user, key_hex: str | None = None, name: str = "Authenticator app") -> TOTPDevice:
    """Create (or replace) the user's TOTP device; `key_hex` makes demo secrets deterministic."""
    TOTPDevice.objects.filter(user=user).delete()
    kwargs = {"user": user, "name": name, "confirmed": True}
    if key_hex:
        kwargs["key"] = key_hex
    return TOTPDevice.objects.create(**kwargs)


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def otpauth_uri(device: TOTPDevice) -> str:
    issuer = getattr(settings, "OTP_TOTP_ISSUER", "Trigger Point Clinic").replace(" ", "%20")
    return (
        f"otpauth://totp/{issuer}:{device.user.username}?secret={base32_secret(device)}"
        f"&issuer={issuer}&digits={device.digits}&period={device.step}"
    )


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user, name: str = "Authenticator app") -> TOTPDevice:
    """The device being enrolled: unconfirmed (so it verifies no sign-in) until its first code is checked.

    Reloading the enrolment page returns the same device, so the secret the user already
    scanned stays valid.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=name, confirmed=False)


def remove_devices(user) -> int:
    """Delete every TOTP device of `user` (a reset): sessions verified with them stop being verified."""
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    return count


def verify_pending(device: TOTPDevice, token: str) -> bool:
    """Whether `token` is the current code of a device being enrolled (django-otp's throttle applies)."""
    token = (token or "").replace(" ", "")
    return token.isdigit() and bool(device.verify_token(token))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as a QR code (an SVG data URI: the strict CSP allows data: images, not inline markup)."""
    return segno.make(otpauth_uri(device), error="m").svg_data_uri(scale=5, border=2)
