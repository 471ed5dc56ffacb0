"""The patient's words on a screening page, in the language their record prefers.

The texts are data (``data/patient_text.yaml``, English and Spanish, English as the fallback),
like the aftercare plan's per-language texts; the patient's ``preferred_language`` chooses.
This module fills a page's names, dates and phone number into them for a template. The text
itself is escaped, so a stray ``<`` typed into the data file shows as text; only the values
the page passes (a date in ``<strong>``, a ``tel:`` link) carry markup, built here.
"""

from __future__ import annotations

from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

from triggerpoint.patients.language import page_language
from triggerpoint.screening.content import load_patient_text


def language_of(patient) -> str:
    """The language to show this patient: their preferred language when supported, else English."""
    return page_language(patient)


class _Values(dict):
    """Placeholders the page does not fill stay as they are (each text uses only a few)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def page_words(group: str, language: str, **values) -> dict[str, SafeString]:
    """The texts of `group` in `language`, with `values` (escaped unless already safe) filled in."""
    escaped = _Values({name: conditional_escape(value) for name, value in values.items()})
    return {
        name: mark_safe(str(escape(text)).format_map(escaped))  # noqa: S308 - text and values escaped above
        for name, text in load_patient_text().group(group, language).items()
    }


def strong(text: str) -> SafeString:
    return format_html("<strong>{}</strong>", text)


def phone_link(phone: str) -> SafeString:
    return format_html('<a href="tel:{}">{}</a>', phone, phone)
