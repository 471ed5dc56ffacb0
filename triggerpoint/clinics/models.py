"""Clinics: every clinical record belongs to exactly one; a network can run many."""

from __future__ import annotations

import uuid
import zoneinfo

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
