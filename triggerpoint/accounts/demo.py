"""Demo extension for accounts: a Users page that looks like a clinic's after a few months, and a SMART client.

Staff have signed in at plausible times (one never has); a former nurse was
deactivated by the clinic admin; a new front-desk hire has been invited and has
not opened the link yet. The changes go through `accounts.services`, so they are
audited and the invitation sits in the outbox like a real one.

Riverside has one SMART Backend Services client (a data warehouse reading `system/*.read`). Its
key pair is made here; the private half is written to the var dir (`DEMO_SMART_KEY`, mode 0600)
and `smart_login_lines` prints where it is, so a newcomer can sign an assertion and get a token.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone
from joserfc.jwk import RSAKey

from triggerpoint.accounts import mfa, services, smart, smart_clients
from triggerpoint.accounts.models import SmartClient, User
from triggerpoint.core.context import acting_as

NEVER_SIGNED_IN = {"analyst.kim"}
DEMO_SMART_CLIENT = "Riverside data warehouse (demo)"
DEMO_SMART_KID = "demo-warehouse-1"


def demo_smart_key_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-smart-client.pem"


def extend(ctx) -> None:
    admin = ctx.staff["admin.patel"]
    zone = ctx.clinics[0].zone
    for username, user in ctx.staff.items():
        if username in NEVER_SIGNED_IN:
            continue
        days_ago = ctx.rng.choice([0, 0, 0, 1, 1, 2, 4])
        at = datetime.combine(ctx.today - timedelta(days=days_ago), time(ctx.rng.randint(7, 17), ctx.rng.randint(0, 59)))
        User.objects.filter(pk=user.pk).update(last_login=timezone.make_aware(at, zone))

    former = User.objects.create_user("nurse.moreau", email="nurse.moreau@clinic.example", password=None,
                                      first_name="Claire", last_name="Moreau", clinic=admin.clinic)
    former.groups.add(Group.objects.get_or_create(name="nurse")[0])
    mfa.provision_totp(former)
    last_seen = datetime.combine(ctx.today - timedelta(days=23), time(16, 40))
    User.objects.filter(pk=former.pk).update(last_login=timezone.make_aware(last_seen, zone))
    with acting_as(admin):
        services.deactivate(admin, former)
        services.create_staff_user(admin, username="desk.nguyen", email="desk.nguyen@clinic.example",
                                   roles=["front_desk"], first_name="Thu", last_name="Nguyen")
    ctx.notes.append(
        "Users (/accounts/users/, as admin.patel): nurse.moreau is deactivated; desk.nguyen was invited and "
        "has an unopened enrolment link in the outbox; analyst.kim has never signed in."
    )
    _register_smart_client(admin)
    ctx.notes.append(f"SMART clients (/accounts/smart-clients/, as admin.patel): {DEMO_SMART_CLIENT}, its private key "
                     f"in {demo_smart_key_path()}.")


def _register_smart_client(admin: User) -> SmartClient:
    key = RSAKey.generate_key(2048, parameters={"kid": DEMO_SMART_KID})
    with acting_as(admin):
        client = smart_clients.register_client(admin, name=DEMO_SMART_CLIENT, scopes="system/*.read",
                                               keys=json.dumps({"keys": [key.as_dict(private=False)]}))
    path = demo_smart_key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the private key: readable by its owner only
    with os.fdopen(fd, "wb") as out:
        out.write(key.as_pem(private=True))
    return client


def smart_login_lines() -> list[str]:
    """How to try the demo SMART client (for the run command's login listing)."""
    client = SmartClient.objects.filter(name=DEMO_SMART_CLIENT, clinic__is_demo=True).first()
    if client is None:
        return []
    path = demo_smart_key_path()
    key_note = str(path) if path.exists() else f"{path} (missing: rebuild the demo to make a new key pair)"
    return [
        "",
        f"  SMART Backend Services client: {client.name}, scopes {' '.join(client.scopes)}",
        f"      client_id {client.client_id}   key: RS384, kid {DEMO_SMART_KID}",
        f"      private key {key_note}",
        f"      token endpoint {smart.token_endpoint_url()}   (POST grant_type=client_credentials with a signed "
        "client_assertion; see /.well-known/smart-configuration)",
    ]


def create_account(username: str, *, password: str | None, **fields: Any) -> User:
    """A new account (staff when `fields` names a clinic, else a portal account), for the demo builder
    (`shell.demo_clinic`): the demo's staff and its portal patient."""
    return User.objects.create_user(username, password=password, **fields)
