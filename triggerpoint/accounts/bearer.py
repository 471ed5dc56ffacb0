"""Who a bearer token (`Authorization: Bearer tpc_…`) belongs to: one answer for /api/v1/ and /fhir/R4/.

A token is usable until revoked or expired, and only for an active user. Its first use is a
security event (ONC (d)(2)): a token used by someone it was not meant for shows up in the audit
trail. The conditional update makes it one event even when two first requests race; later uses
refresh `last_used_at` at most once a minute.
"""

from __future__ import annotations

from django.utils import timezone

from triggerpoint.accounts.models import ApiToken, User, hash_token
from triggerpoint.audit import services as audit


def user_for_token(raw: str, client_ip: str | None) -> User | None:
    """The active user this token was issued to, or None (unknown, revoked, expired, inactive user)."""
    row = ApiToken.objects.usable().select_related("user").filter(token_hash=hash_token(raw)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None:
        if ApiToken.objects.filter(pk=row.pk, last_used_at__isnull=True).update(last_used_at=now):
            audit.record("accounts.token.first_used", actor=row.user, clinic=row.user.clinic,
                         details={"token": row.name, "client_ip": client_ip})
    elif (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
