"""PDFs of a visit (WeasyPrint): the chart copy and the plain-language patient copy.

The pain drawing is drawn into the PDF from the atlas's own body-map SVG, with each
drawn zone filled in the body map's intensity colours; the PDF has no JavaScript, so
the fills are written as SVG attributes here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from triggerpoint.assessment import summaries
from triggerpoint.assessment.models import Visit

# The body map's sequential intensity palette (atlas/bodymap.css --bm-int-0..10).
INTENSITY_FILLS = (
    "#ffffff", "#f6d746", "#fbba1f", "#fca50a", "#f98e09", "#f37819",
    "#dd513a", "#bc3754", "#932667", "#6a176e", "#420a68",
)
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_ZONE = re.compile(r'<path class="zone"([^>]*?) data-zone="([^"]+)"')


def drawing_svg(drawing: Mapping[str, int], width: int = 230) -> str:
    """Front and back views with the drawn zones filled, as inline SVG for WeasyPrint."""
    if not drawing:
        return ""
    html = render_to_string("atlas/_bodymap.html", {"bodymap_mode": "heat", "bodymap_initial": ""})
    views = _SVG.findall(html)

    def fill(match: re.Match) -> str:
        attributes, zone = match.group(1), match.group(2)
        intensity = drawing.get(zone)
        if intensity is None:
            return f'<path class="zone"{attributes} data-zone="{zone}"'
        colour = INTENSITY_FILLS[max(0, min(10, int(intensity)))]
        return f'<path class="zone" fill="{colour}" stroke="#1f2933" stroke-width="0.8"{attributes} data-zone="{zone}"'

    out = []
    for svg in views:
        svg = svg.replace('<g class="bodymap__body" aria-hidden="true">',
                          '<g class="bodymap__body" aria-hidden="true" fill="#eef1f4" stroke="#5b6673" stroke-width="1">')
        svg = svg.replace('<g class="bodymap__zones">', '<g class="bodymap__zones" fill="none" stroke="#b8c2cc" stroke-width="0.4">')
        svg = svg.replace('<g class="bodymap__details" aria-hidden="true">',
                          '<g class="bodymap__details" aria-hidden="true" fill="none" stroke="#8a96a3" stroke-width="0.6">')
        svg = svg.replace('<g class="bodymap__markers" aria-hidden="true">', '<g class="bodymap__markers" aria-hidden="true" display="none">')
        svg = _ZONE.sub(fill, svg)
        # viewBox is 364 × 772
        svg = svg.replace('class="bodymap__svg"', f'class="bodymap__svg" width="{width}" height="{round(width * 772 / 364)}"', 1)
        out.append(svg)
    return "".join(out)


def _stylesheet():
    import weasyprint  # imported here: ~1 s and native Pango libraries; only the PDF views pay for it

    return weasyprint.CSS(filename=finders.find("assessment/print.css"))


def _pdf(html: str) -> bytes:
    import weasyprint  # imported here: ~1 s and native Pango libraries; only the PDF views pay for it

    return weasyprint.HTML(string=html, base_url=str(finders.find("assessment/print.css"))).write_pdf(
        stylesheets=[_stylesheet()]
    )


def chart_html(user, visit: Visit) -> str:
    context = summaries.summary_context(user, visit)
    drawing = context["v"]["record"].get("pain_drawing") or {}
    context["drawing_svg"] = mark_safe(drawing_svg(drawing, width=150))  # noqa: S308 - built from our own template
    return render_to_string("assessment/pdf_chart.html", context)


def chart_pdf(user, visit: Visit) -> bytes:
    return _pdf(chart_html(user, visit))


def patient_html(visit: Visit) -> str:
    context = summaries.patient_summary_context(visit)
    drawing = context["v"]["record"].get("pain_drawing") or {}
    context["drawing_svg"] = mark_safe(drawing_svg(drawing, width=190))  # noqa: S308 - built from our own template
    context["pdf"] = True
    return render_to_string("assessment/pdf_patient.html", context)


def patient_pdf(visit: Visit) -> bytes:
    return _pdf(patient_html(visit))
