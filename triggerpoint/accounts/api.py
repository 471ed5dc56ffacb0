from __future__ import annotations

from django.contrib.auth import authenticate, user_login_failed
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from triggerpoint.accounts import mfa
from triggerpoint.accounts.models import ApiToken
from triggerpoint.audit import services as audit

router = Router(tags=["auth"])


class TokenRequest(Schema):
    username: str
    password: str
    otp_token: str
    name: str = "api"
    expires_days: int = 30


class TokenResponse(Schema):
    token: str
    prefix: str
    expires_at: str | None


@router.post("/token", auth=None, response={201: TokenResponse})
def issue_token(request, payload: TokenRequest):
    """Exchange a staff password plus authenticator code for a bearer token (throttled like the login page)."""
    if not 1 <= payload.expires_days <= 365:
        raise HttpError(422, "expires_days must be between 1 and 365")
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.clinic_id:
        raise HttpError(401, "Invalid credentials.")
    device = mfa.verify(user, payload.otp_token)
    if device is None:
        user_login_failed.send(sender=__name__, credentials={"username": payload.username}, request=request)
        raise HttpError(401, "Invalid credentials.")
    token, raw = ApiToken.issue(user, payload.name[:100], payload.expires_days)
    audit.record("accounts.token.issued", actor=user, clinic=user.clinic, details={"token": token.prefix, "via": "api"})
    return Status(201, {"token": raw, "prefix": token.prefix, "expires_at": token.expires_at.isoformat() if token.expires_at else None})
