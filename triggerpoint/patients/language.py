"""Which language a patient's pages and messages use."""

from __future__ import annotations

from django.conf import settings


def page_language(patient) -> str:
    """The patient's preferred language if the site speaks it (settings.LANGUAGES), else the site's default."""
    language = getattr(patient, "preferred_language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
