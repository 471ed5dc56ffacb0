"""The signed note as a document: the PDF (WeasyPrint), the legal record, so clinical content only.

One renderer for every channel that hands the PDF out: the note's page (`views.pdf`, a signed-in
user) and the FHIR interface's `Binary` read (a bearer or SMART caller the interface has already
authorized). Billing codes, payer warnings, rule ids and data-file references stay on the coder's
web view (`legal_record` hides them in the shared template). The guidance images are inlined, each
read audited (`procedures.guidance_image.viewed`).
"""

from __future__ import annotations

import base64
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from triggerpoint.procedures import images, presentation
from triggerpoint.procedures.models import Procedure


def note_pdf_filename(procedure: Procedure) -> str:
    return f"procedure-{procedure.patient.mrn}-{procedure.procedure_date.isoformat()}.pdf"


def _image_uri(procedure: Procedure, image, user: Any, channel: str) -> str:
    if user is not None:  # a signed-in user: the policy is asked again for the image
        return images.guidance_image_data_uri(user, procedure, image, channel=channel)
    data = images.read_guidance_image_granted(procedure, image, channel=channel)
    return f"data:{image.content_type};base64,{base64.b64encode(data).decode('ascii')}"


def note_pdf(procedure: Procedure, *, printed_by: Any, user: Any = None, base_url: str = "/",
             channel: str = "pdf", request: Any = None) -> bytes:
    """The note's PDF. `printed_by` is named in the footer (a user, or any actor with a `username`);
    `user` is the signed-in user the images are checked against, None for a caller already granted the note."""
    import weasyprint  # imported here: ~1 s and native Pango libraries; only the PDF views pay for it

    context = presentation.note_context(procedure)
    for item in context["images"]:
        item["src"] = _image_uri(procedure, item["image"], user, channel)
    context["legal_record"] = True
    context["printed_at"] = timezone.now()
    context["printed_by"] = printed_by
    html = render_to_string("procedures/note_pdf.html", context, request=request)
    document = weasyprint.HTML(string=html, base_url=base_url)
    return document.write_pdf(stylesheets=[weasyprint.CSS(filename=str(presentation.PDF_CSS))])
