"""Reads of staff accounts that other apps need (who can be put on call, a clinician's display name).

Other apps ask here instead of filtering the user table themselves, so what "active staff of a
clinic" means stays in this app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triggerpoint.accounts.models import User


def active_staff(clinic):
    """The clinic's active staff accounts, by last name then username."""
    return User.objects.filter(clinic=clinic, is_active=True).order_by("last_name", "username")


def staff_member(clinic, username: str) -> User | None:
    """The clinic's staff account with this username (active or not), or None."""
    return User.objects.filter(clinic=clinic, username=username).first()


def display_names(user_ids: Iterable[int]) -> dict[str, str]:
    """{str(user pk): full name, or username when none} for these users."""
    return {str(u.pk): (u.get_full_name() or u.username) for u in User.objects.filter(pk__in=list(user_ids))}


def active_staff_in_roles(clinic, roles: Iterable[str]):
    """The clinic's active staff accounts holding any of these roles, each once (unordered)."""
    return User.objects.filter(clinic=clinic, is_active=True, groups__name__in=list(roles)).distinct()


def account_named(username: str) -> User | None:
    """The account with exactly this username (staff or portal, any clinic), or None."""
    return User.objects.filter(username=username).first()


def practitioners(clinic_id: int):
    """The clinic's staff accounts, active or not (a signed note names its signer for good), by name."""
    return User.objects.filter(clinic_id=clinic_id).order_by("last_name", "first_name", "username", "pk")


def usernames_of(public_ids: Iterable[Any]) -> list[str]:
    """The usernames of the accounts with these public ids (FHIR `Practitioner/<id>`)."""
    return list(User.objects.filter(public_id__in=list(public_ids)).values_list("username", flat=True))
