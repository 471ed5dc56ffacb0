"""Coded values shared by several clinical apps (one definition each)."""

from django.db import models


class Side(models.TextChoices):
    """The patient's own side of a muscle or site (the body map uses the same convention)."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
