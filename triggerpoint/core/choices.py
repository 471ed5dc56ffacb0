"""Coded values shared by several clinical apps (one definition each)."""

from django.db import models


class Side(models.TextChoices):
    """The patient's own side of a muscle or site (the body map uses the same convention)."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class Guidance(models.TextChoices):
    """How the needle was guided to the trigger point (procedure notes, screening plans, coding)."""

    LANDMARK = "landmark", "Landmark (palpation)"
    ULTRASOUND = "ultrasound", "Ultrasound"


class Technique(models.TextChoices):
    """What was done at a trigger point: an injection or a dry needle (no injectate)."""

    INJECTION = "injection", "Injection"
    DRY_NEEDLING = "dry_needling", "Dry needling"


# The same vocabularies as plain tuples, for the pure rule modules and JSON contracts that validate raw strings.
SIDES: tuple[str, ...] = tuple(Side.values)
TECHNIQUES: tuple[str, ...] = tuple(Technique.values)
GUIDANCES: tuple[str, ...] = tuple(Guidance.values)
