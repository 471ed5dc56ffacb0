"""Security events into the audit trail: failed sign-ins, wrong second-factor codes, lockouts.

Successful sign-in and sign-out are recorded by the views (accounts/views.py).
A failed attempt stores the username typed (as the actor label, so the log's
user filter finds it) and the client address — never the password: Django's
`user_login_failed` already cleanses it, and only the username is read here.
An attempt for an existing account is filed under that account's clinic, so
the clinic admin sees it; an unknown username goes to the system chain.
"""

from __future__ import annotations

from types import SimpleNamespace

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model, user_login_failed

from triggerpoint.audit import services as audit
from triggerpoint.core.client_ip import client_ip

SECOND_FACTOR_SENDER = "triggerpoint.accounts.forms"  # LoginForm._fail sends the signal for a wrong or missing code


def _actor(username: str):
    user = get_user_model().objects.filter(username=username).select_related("clinic").first()
    return user if user is not None else SimpleNamespace(username=username, pk=None, clinic=None)


def _ip(request) -> str | None:
    if request is None:
        return None

    return client_ip(request)


def on_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username") or "")[:150]
    actor = _actor(username)
    channel = "api" if request is not None and request.path.startswith("/api/") else "web"
    details = {"username": username, "client_ip": _ip(request), "channel": channel}
    if sender == SECOND_FACTOR_SENDER:
        audit.record("accounts.second_factor.rejected", actor=actor, clinic=actor.clinic, details=details)
    else:
        audit.record("accounts.session.sign_in_failed", actor=actor, clinic=actor.clinic, details=details)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    username = str(username or "")[:150]
    actor = _actor(username)
    audit.record("accounts.session.locked_out", actor=actor, clinic=actor.clinic,
                 details={"username": username, "client_ip": ip_address or _ip(request)})


def connect_signals() -> None:
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
