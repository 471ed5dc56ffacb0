from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from triggerpoint.accounts.models import ApiToken, User
from triggerpoint.audit import services as audit
from triggerpoint.core.context import acting_as


class Command(BaseCommand):
    help = "Issue, list and revoke API tokens. The secret is printed once, as the last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for USERNAME")
        create.add_argument("username")
        create.add_argument("--expires-days", type=int, default=None)
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list", help="list tokens")
        listing.add_argument("--username", default=None)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **opts):
        getattr(self, f"_{action}")(**opts)

    def _create(self, username, expires_days, name, **_):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_clinic_staff:
            raise CommandError("API tokens are for clinic staff accounts.")
        if expires_days is not None and not 1 <= expires_days <= 3650:
            raise CommandError("--expires-days must be between 1 and 3650.")
        token, raw = ApiToken.issue(user, name, expires_days)
        with acting_as(None):
            audit.record("accounts.token.issued", clinic=user.clinic, details={"token": token.prefix, "user": username, "via": "cli"})
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        self.stdout.write(f"Token {token.prefix}… for {username}, expires {expiry}. It is shown once:")
        self.stdout.write(raw)

    def _list(self, username, **_):
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user__username=username)
        for t in tokens:
            state = "active" if t.is_active else ("revoked" if t.revoked_at else "expired")
            self.stdout.write(f"{t.prefix}…  {t.user.username:<20} {t.name:<12} {state:<8} created {t.created_at:%Y-%m-%d}")

    def _revoke(self, prefix, **_):
        token = ApiToken.objects.filter(prefix__startswith=prefix.rstrip("…")).first()
        if token is None:
            raise CommandError(f"No token with prefix {prefix!r}.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        with acting_as(None):
            audit.record("accounts.token.revoked", clinic=token.user.clinic, details={"token": token.prefix, "via": "cli"})
        self.stdout.write(f"Revoked {token.prefix}….")
