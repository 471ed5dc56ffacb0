"""Users (staff and patients), roles and API tokens.

Staff roles are Django Groups with fixed names; patients are users linked to
their own patient record (`Patient.portal_user`) and have no role.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from triggerpoint.accounts import portal_lookup
from triggerpoint.accounts.roles import STAFF_ROLES, Role


class User(AbstractUser):
    clinic = models.ForeignKey(
        "clinics.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # The id others see (FHIR `Practitioner/<public_id>`): never the integer key.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
            self._roles_cache = cached
        return cached

    @property
    def is_clinic_staff(self) -> bool:
        return self.clinic_id is not None and bool(self.roles)

    @property
    def portal_patient(self):
        """The patient record this portal account belongs to, or None for staff.

        The patients app (one layer up) supplies the lookup: `PatientsConfig.ready` registers
        `patients.selectors.portal_patient_of` with `portal_lookup.set_portal_patient_lookup`.
        """
        if not hasattr(self, "_portal_patient_cache"):
            self._portal_patient_cache = portal_lookup.portal_patient_of(self)
        return self._portal_patient_cache

    @property
    def portal_chart_ids(self) -> frozenset[int]:
        """The primary keys of every chart of this portal account's patient (one, or more after a merge)."""
        patient = self.portal_patient
        if patient is None:
            return frozenset()
        return portal_lookup.chart_ids_of(patient)

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in sorted(self.roles)]


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A revocable bearer token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str, expires_days: int | None = None) -> tuple[ApiToken, str]:
        raw = "tpc_" + secrets.token_urlsafe(32)
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw), expires_at=expires_at
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class EnrolmentPurpose(models.TextChoices):
    INVITE = "invite", "New account"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset"


class EnrolmentLinkQuerySet(models.QuerySet):
    def open(self):
        """Links that may still be used: not used, not withdrawn, not expired."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class EnrolmentLink(models.Model):
    """A one-time emailed link with which a staff member enrols their second factor.

    Issued when a clinic admin adds the account (the link also sets the first password)
    and when they reset a lost second factor. Enrolling needs the link *and* the
    password (a new one for a new account), so neither a leaked password nor an
    intercepted email alone lets someone register their own authenticator.
    Only the SHA-256 of the token is stored; issuing a new link withdraws older ones.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_links")
    purpose = models.CharField(max_length=30, choices=EnrolmentPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = EnrolmentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.user}"

    @classmethod
    def issue(cls, user: User, purpose: str, valid_for: timedelta, created_by: User | None = None) -> tuple[EnrolmentLink, str]:
        raw = secrets.token_urlsafe(32)
        link = cls.objects.create(user=user, purpose=purpose, token_hash=hash_token(raw), created_by=created_by,
                                  expires_at=timezone.now() + valid_for)
        return link, raw

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


# ------------------------------------------------------------------ SMART Backend Services (accounts/smart.py)
class SmartClientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class SmartClient(models.Model):
    """A system (an EHR, a registry, a data warehouse) that reads the clinic's FHIR API on its own behalf.

    Registered by the clinic admin with the client's public keys (a JWKS: private key material is
    refused, `smart_clients.parse_public_keys`). The client proves who it is by signing a short-lived
    JWT with its private key (SMART Backend Services, RFC 7523); the clinic never holds a secret of
    it. Keys are given, never fetched from a `jwks_url`: the server makes no outbound requests.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="smart_clients")
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=64, unique=True)
    jwks = models.JSONField()  # {"keys": [public JWK, ...]}, each with a kid
    scopes = models.JSONField(default=list)  # the most this client may be granted, e.g. ["system/*.read"]
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_token_at = models.DateTimeField(null=True, blank=True)

    objects = SmartClientQuerySet.as_manager()

    class Meta:
        ordering = ["-is_active", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @staticmethod
    def new_client_id() -> str:
        return "smart-" + secrets.token_urlsafe(18)

    @property
    def key_ids(self) -> list[str]:
        return [key.get("kid", "") for key in (self.jwks or {}).get("keys", [])]


class SmartAssertionUse(models.Model):
    """A client assertion's `jti`, kept until the assertion expires so it cannot be used twice.

    The unique constraint decides a race: of two requests replaying one assertion at once,
    the second insert fails and that request is refused.
    """

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="smart_assertion_jti_once")]

    def __str__(self) -> str:
        return f"jti {self.jti[:16]} of client {self.client_id}"


class SmartAccessToken(models.Model):
    """An opaque bearer token for a SMART client; only its SHA-256 is stored."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"token for {self.client.client_id} until {self.expires_at:%H:%M:%S}"
