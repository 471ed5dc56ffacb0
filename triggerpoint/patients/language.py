"""Which language a patient's pages and messages use."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def page_language(patient) -> str:
    """The patient's preferred language if the site speaks it (settings.LANGUAGES), else the site's default."""
    language = getattr(patient, "preferred_language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def link_page_language(patient=None) -> str:
    """The language of a page reached through a patient link that could not be opened.

    The patient's own language when the link can be attributed to them (an expired or revoked
    link), otherwise the browser's (LocaleMiddleware has activated it from Accept-Language).
    """
    if patient is not None:
        return page_language(patient)
    active = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
