"""A consent as a document: what its page and its PDF show, and the PDF itself.

One place for every channel that hands the signed consent out: the staff and portal pages
(`consent_views`) and the FHIR interface's `Binary` read (a caller it has already authorized and
audited). The words of a Spanish consent come from `data/consent_es.yaml`.
"""

from __future__ import annotations

from django.utils import timezone

from triggerpoint.screening.content import load_consent_es
from triggerpoint.screening.models import Consent
from triggerpoint.screening.pdf import render_pdf

TEMPLATE = "screening/consent_pdf.html"
FILENAME = "consent.pdf"


def consent_spanish_words(consent: Consent) -> dict:
    """For a Spanish consent: its labels (data/consent_es.yaml) and the muscle lines ("Trapecio superior,
    lado izquierdo"); nothing for an English one, whose words stay in the template unchanged."""
    document = consent.document or {}
    if document.get("language") != "es":
        return {}
    words = load_consent_es()
    labels = dict(words.labels)
    labels["title"] = labels["title"].format(procedure=str(document.get("procedure", "")).lower())
    labels["version_line"] = labels["version"].format(version=consent.document_version)
    sites = [
        f"{site['muscle_name']}, " + labels["side"].format(side=words.sides.get(site["side"], site["side"]))
        for site in document.get("sites", [])
    ]
    return {"es": labels, "es_sites": sites}


def consent_context(consent: Consent) -> dict:
    return {
        **consent_spanish_words(consent),
        "consent": consent,
        "document": consent.document,
        "patient": consent.patient,
        "clinic": consent.clinic,
        # Formatted here: the template's date filter would convert back to the server's zone.
        "signed_local": (
            timezone.localtime(consent.signed_at, consent.clinic.zone).strftime("%Y-%m-%d %H:%M %Z")
            if consent.signed_at
            else ""
        ),
    }


def consent_pdf(consent: Consent) -> bytes:
    """The consent's PDF (WeasyPrint), as the print view renders it."""
    return render_pdf(TEMPLATE, consent_context(consent))
