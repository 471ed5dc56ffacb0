"""Demo extension for accounts: a Users page that looks like a clinic's after a few months.

Staff have signed in at plausible times (one never has); a former nurse was
deactivated by the clinic admin; a new front-desk hire has been invited and has
not opened the link yet. The changes go through `accounts.services`, so they are
audited and the invitation sits in the outbox like a real one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone

from triggerpoint.accounts import mfa, services
from triggerpoint.accounts.models import User
from triggerpoint.core.context import acting_as

NEVER_SIGNED_IN = {"analyst.kim"}


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


def create_account(username: str, *, password: str | None, **fields: Any) -> User:
    """A new account (staff when `fields` names a clinic, else a portal account), for the demo builder
    (`shell.demo_clinic`): the demo's staff and its portal patient."""
    return User.objects.create_user(username, password=password, **fields)
