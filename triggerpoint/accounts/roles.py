"""The staff roles (Django Groups with these fixed names), importable without the accounts models.

Other apps name a role (`Role.PHYSICIAN`) without reaching into `accounts.models`; the models
import them from here.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    FRONT_DESK = "front_desk", "Front desk"
    ANALYST = "analyst", "Analyst"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"


STAFF_ROLES = frozenset(Role.values)
