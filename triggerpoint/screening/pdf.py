"""Printable PDFs (preparation instructions, signed consent) rendered from templates with WeasyPrint."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

PRINT_CSS = "screening/print.css"


def render_pdf(template: str, context: dict) -> bytes:
    # Imported when a PDF is made: WeasyPrint loads Pango/Cairo, which no page or test needs otherwise.
    import weasyprint

    html = render_to_string(template, context)
    stylesheet = weasyprint.CSS(filename=finders.find(PRINT_CSS))
    return weasyprint.HTML(string=html, base_url=None).write_pdf(stylesheets=[stylesheet])


def pdf_response(template: str, context: dict, filename: str) -> HttpResponse:
    response = HttpResponse(render_pdf(template, context), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
