from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from triggerpoint.accounts.decorators import patient_required, staff_required
from triggerpoint.accounts.policy import can
from triggerpoint.audit import services as audit
from triggerpoint.patients.last_visits import last_visit_dates
from triggerpoint.patients.selectors import recently_updated
from triggerpoint.shell import today
from triggerpoint.shell.sections import patient_ids_shown, portal_sections_for, sections_for


def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.clinic_id:
        if can(user, "worklist.view"):
            return redirect("core:worklist")
        if can(user, "analytics.view"):
            return redirect(_first_url("outcomes:dashboard", "atlas:index"))
        if can(user, "audit.view"):
            return redirect("audit:log")
        return redirect("atlas:index")
    return redirect("core:portal")


@staff_required("worklist.view")
def worklist(request):
    recent = list(recently_updated(request.user.clinic, 10))
    seen = last_visit_dates(patient.pk for patient in recent)  # the list's "Last visit" column, as search shows it
    for patient in recent:
        patient.last_visit = seen.get(patient.pk)
    # Urgent follow-up alerts stay on top (a warning sign must reach the clinician first); then "Today": the
    # day's appointments with each patient's readiness (?mine=1: the clinician's own); then the other sections.
    sections = sorted(today.sections(request.user, mine=request.GET.get("mine") == "1") + sections_for(request.user),
                      key=lambda section: section.priority)
    # Every patient named on the page, in one insert: the recently updated list and each section's rows.
    shown = [patient.pk for patient in recent] + patient_ids_shown(sections)
    audit.record_patient_views("shell.worklist.viewed", shown, clinic=request.user.clinic,
                               details={"patients_listed": len(set(shown))})
    return render(request, "core/worklist.html", {"sections": sections, "recent": recent})


@patient_required
def portal(request):
    patient = request.user.portal_patient
    audit.record("patients.patient.viewed", obj=patient, details={"channel": "portal"})
    return render(request, "core/portal.html", {"patient": patient, "sections": portal_sections_for(request.user)})


def healthz(request):
    """Liveness plus a database round trip, for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def trivial(request):
    """The benchmark's baseline: the cheapest response the stack can give."""
    return HttpResponse("ok", content_type="text/plain")


@staff_required()
def signed_in_baseline(request):
    """The benchmark's second baseline: what any staff page pays before its own work (session, identity, 2FA)."""
    return HttpResponse("ok", content_type="text/plain")


def _first_url(*names: str) -> str:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/"
