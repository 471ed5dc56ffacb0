"""The plan as files the patient keeps: a printable PDF for discharge and an .ics calendar.

Both are rendered from the stored plan (exactly what was handed out), in the plan's
language. The PDF is WeasyPrint from an HTML template that loads nothing from the
network (its CSS is in the template), so it renders the same offline and in tests.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from triggerpoint.aftercare import plan_pages
from triggerpoint.aftercare.calendar import plan_to_ics
from triggerpoint.aftercare.models import AftercarePlan


def plan_print_html(plan: AftercarePlan) -> str:
    with translation.override(plan.language):
        view = plan_pages.plan_view(plan, today=plan.procedure_date)
        return render_to_string(
            "aftercare/plan_print.html",
            {
                "view": view,
                "plan": plan,
                "patient": plan.patient,
                "clinic": plan.clinic,
                # Goes unescaped inside a CSS string in <style>: no quotes, backslashes or tags.
                "footer_name": "".join(ch for ch in plan.clinic.name if ch not in '"\\<>'),
            },
        )


def plan_pdf(plan: AftercarePlan) -> bytes:
    # Imported when a PDF is made: WeasyPrint loads Pango/Cairo, which no page or test needs otherwise.
    from weasyprint import HTML

    return HTML(string=plan_print_html(plan)).write_pdf()


def plan_ics(plan: AftercarePlan) -> bytes:
    # No patient name: calendars sync to third-party clouds; the clinic's name is enough.
    return plan_to_ics(
        plan_pages.built_plan(plan),
        clinic_name=plan.clinic.name,
        clinic_phone=plan.clinic.phone or "",
        plan_key=str(plan.public_id),
    )


def download_name(plan: AftercarePlan, extension: str) -> str:
    return f"aftercare-plan-{plan.procedure_date.isoformat()}.{extension}"
