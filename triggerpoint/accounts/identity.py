"""Who is signed in, without four queries on every page.

Every authenticated request needs the user, their clinic, their roles and the
second-factor device recorded in their session. Loading those from the
database costs four ORM queries on every page. They change rarely, so one
snapshot per user is kept in the shared cache (the database cache table; never
a per-process cache, or a revoked role would live on in the other workers).

Correctness rests on generation tokens (`core.generations`) rather than
deletes: every change to a user, their groups, their clinic or their devices
renews the user's token, again after the transaction commits, so a request
that read old rows just before a change stores a snapshot nobody accepts
instead of resurrecting the old roles. Token and snapshot are read in one
cache round trip. Writes that bypass model signals (queryset
`update()`, raw SQL) are bounded by IDENTITY_CACHE_SECONDS.

The snapshot holds no TOTP secret: devices are loaded with their secret
deferred, so verifying a code still reads the key from the database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django_otp import device_classes
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from triggerpoint.core import generations

DEVICE_FIELDS = ("id", "user_id", "name", "confirmed")


def _generation(user_id: int) -> str:
    return f"identity:{user_id}"


def _snapshot_key(user_id: int) -> str:
    return f"tp:identity:{user_id}"


def _ttl() -> int:
    return getattr(settings, "IDENTITY_CACHE_SECONDS", 120)


def _load_from_database(user_id: int):

    user = get_user_model().objects.select_related("clinic").filter(pk=user_id).first()
    if user is None:
        return None
    user.roles  # noqa: B018 - fills the roles cache so it travels with the snapshot
    # Without the secret: the snapshot only proves which device verified the session.
    user._otp_devices = {
        device.persistent_id: device
        for model in device_classes()
        for device in model.objects.devices_for_user(user, confirmed=True).only(*DEVICE_FIELDS)
    }
    return user


def load_user(user_id: int):
    """The user with clinic, roles and confirmed devices, from the shared cache when current."""
    key = _snapshot_key(user_id)
    user, token = generations.read(key, _generation(user_id))
    if user is None:
        user = _load_from_database(user_id)
        if user is not None:
            generations.write(key, token, user, _ttl())
    return user


def device_for(user: Any, persistent_id: str):
    """The device named in the session, from the user's snapshot (None if not theirs or gone)."""
    devices = getattr(user, "_otp_devices", None)
    if devices is None:
        return Device.from_persistent_id(persistent_id)
    return devices.get(persistent_id)


def forget(*user_ids: int) -> None:
    """Make the next request of each user read fresh rows.

    The token changes at once (so later reads in this transaction, and tests
    that never commit, see the change) and again after commit (so a snapshot
    read from the old rows while this transaction was open is never served).
    """
    ids = sorted({uid for uid in user_ids if uid is not None})
    if not ids:
        return

    def bump() -> None:
        # Kept for two TTLs: longer than any snapshot stored under an older token.
        generations.renew([_generation(user_id) for user_id in ids], keep_for=2 * _ttl())

    if transaction.get_connection().in_atomic_block:
        bump()
    transaction.on_commit(bump, robust=True)


def _user_changed(sender, instance, **kwargs) -> None:
    forget(instance.pk)


def _device_changed(sender, instance, **kwargs) -> None:
    forget(instance.user_id)


def _clinic_changed(sender, instance, **kwargs) -> None:
    forget(*get_user_model().objects.filter(clinic_id=instance.pk).values_list("pk", flat=True))


def _group_changed(sender, instance, **kwargs) -> None:
    forget(*instance.user_set.values_list("pk", flat=True))


def _membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if not reverse:  # user.groups.add(...)
        forget(instance.pk)
    elif action == "pre_clear":  # group.user_set.clear(): members are known only before
        forget(*instance.user_set.values_list("pk", flat=True))
    else:  # group.user_set.add(...)
        forget(*(pk_set or ()))


def connect_signals() -> None:
    """Every write that can change who someone is, or what they may do, renews their snapshot."""


    user_model = get_user_model()
    uid = "triggerpoint.accounts.identity"
    post_save.connect(_user_changed, sender=user_model, dispatch_uid=f"{uid}.user_saved")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid=f"{uid}.user_deleted")
    post_save.connect(_device_changed, sender=TOTPDevice, dispatch_uid=f"{uid}.device_saved")
    post_delete.connect(_device_changed, sender=TOTPDevice, dispatch_uid=f"{uid}.device_deleted")
    post_save.connect(_clinic_changed, sender="clinics.Clinic", dispatch_uid=f"{uid}.clinic_saved")
    post_save.connect(_group_changed, sender=Group, dispatch_uid=f"{uid}.group_saved")
    pre_delete.connect(_group_changed, sender=Group, dispatch_uid=f"{uid}.group_deleted")
    m2m_changed.connect(_membership_changed, sender=user_model.groups.through, dispatch_uid=f"{uid}.groups")
