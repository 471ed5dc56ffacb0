"""Clinics: every clinical record belongs to exactly one; a network can run many."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known time zone") from exc


class Clinic(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    phone = models.CharField(max_length=40, blank=True)
    after_hours_phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    # Demo clinics are built by `triggerpoint demo`; it refuses to run on a
    # database holding any clinic that is not a demo clinic.
    is_demo = models.BooleanField(default=False)
    # Generated MRNs are prefix + the clinic's next number, zero-padded to the width
    # (patients.registration); an MRN typed by hand (a patient imported from elsewhere) is kept as is.
    mrn_prefix = models.CharField("MRN prefix", max_length=12, blank=True, default="")
    mrn_width = models.PositiveSmallIntegerField(
        "MRN digits", default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        """The date at the clinic now. Clinical days (procedure dates, the 4-week screening window, when a
        questionnaire is due) are the clinic's local days: for five hours every evening in New York the UTC
        date is already tomorrow, and code outside a signed-in request (tokenised patient links, the worker)
        has no clinic time zone activated."""
        return timezone.localdate(timezone=self.zone)
