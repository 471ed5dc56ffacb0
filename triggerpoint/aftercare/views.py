"""Aftercare pages: the patient's plan (portal, tokenised link, clinician view), its PDF and
calendar, task ticks and the reminder opt-out, and the education library.

Thin: each view finds the record through the policy (or the link), calls a service and
renders. Patient-facing pages render in the plan's language; the library in the patient's
preferred language unless `?lang=` asks for another.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can, require
from triggerpoint.aftercare import documents, plan_pages, record_inputs, services
from triggerpoint.aftercare.education import article_slugs, get_article
from triggerpoint.aftercare.models import AftercarePlan, CheckSource
from triggerpoint.aftercare.plan_template import SUPPORTED_LANGUAGES
from triggerpoint.aftercare.rendering import render_markdown, without_leading_title
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications import services as outbox
from triggerpoint.patients.language import link_page_language
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user
from triggerpoint.procedures.selectors import procedure_for_patient

# The order a reader would take: what they are, why, what is treated, the day itself, after, beyond.
LIBRARY_ORDER = (
    "what-are-trigger-points",
    "causes-and-aggravating-factors",
    "conditions-treated",
    "preparing-for-your-injection",
    "the-injection",
    "aftercare",
    "risks-and-warning-signs",
    "treatments-that-work-with-injections",
    "results-and-repeat-injections",
)


# ------------------------------------------------------------------ guards and lookups
def patient_or_staff(view):
    """A portal patient, or clinic staff who passed the second factor (the policy decides the rest)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.clinic_id:
            if not user.is_clinic_staff:
                raise PermissionDenied("This page is for clinic staff and patients.")
            if not user.is_verified():
                return redirect_to_login(request.get_full_path())
        elif user.portal_patient is None:
            raise PermissionDenied("This page is for patients.")
        return view(request, *args, **kwargs)

    return wrapped


def _plan_for_user(user, patient_id, plan_id, action: str) -> AftercarePlan:
    patient = get_patient_for_user(user, patient_id, action)
    plan = (
        AftercarePlan.objects.select_related("clinic", "patient", "procedure")
        .filter(patient_id__in=chart_ids(patient), public_id=plan_id)
        .first()
    )
    if plan is None:
        raise Http404("No such plan.")
    require(user, action, plan)
    return plan


class _LinkedPlan:
    """The plan a tokenised link opens, and the URLs that keep the patient inside that link."""

    def __init__(self, token: str):
        link = outbox.resolve_link(token, services.LINK_PURPOSE)
        plan = (
            AftercarePlan.objects.select_related("clinic", "patient", "procedure")
            .filter(public_id=link.target_id, patient=link.patient)
            .first()
        )
        if plan is None:
            raise outbox.LinkInvalid("This link is not valid.")
        self.link, self.plan = link, plan
        self.urls = _urls(LINK_ROUTES, [token])


def _with_link(view):
    """Resolve the token first; an unknown, expired or revoked link gets a plain page, never the plan."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        try:
            linked = _LinkedPlan(token)
        except outbox.LinkInvalid as error:
            with translation.override(link_page_language(error.patient)):
                response = render(request, "aftercare/link_invalid.html", {"reason": _(str(error))}, status=404)
            response["Cache-Control"] = "no-store"
            return response
        return view(request, linked, *args, **kwargs)

    return never_cache(wrapped)


PLAN_ROUTES = {"page": "plan", "pdf": "plan_pdf", "ics": "plan_ics", "check": "plan_check", "stop": "plan_stop_reminders"}
LINK_ROUTES = {"page": "link_plan", "pdf": "link_pdf", "ics": "link_ics", "check": "link_check", "stop": "link_stop_reminders"}


def _urls(routes: dict[str, str], args: list) -> dict[str, str]:
    return {key: reverse(f"aftercare:{name}", args=args) for key, name in routes.items()}


def _plan_urls(plan: AftercarePlan) -> dict[str, str]:
    return _urls(PLAN_ROUTES, [plan.patient.public_id, plan.public_id])


# ------------------------------------------------------------------ shared rendering
def _patient_plan_response(request, plan: AftercarePlan, urls: dict[str, str], via: str):
    audit.record("aftercare.plan.viewed", obj=plan, details={"via": via})
    with translation.override(plan.language):
        context = {
            "view": plan_pages.plan_view(plan),
            "plan": plan,
            "clinic": plan.clinic,
            "patient": plan.patient,
            "urls": urls,
            "stopped": services.reminders_stopped(plan.patient),
            "via": via,
            "library_lang": plan.language,
        }
        return render(request, "aftercare/plan_patient.html", context)


def _check(request, plan: AftercarePlan, urls: dict[str, str], source: str):
    try:
        day_number = int(request.POST.get("day", ""))
        key = request.POST["task"]
    except (KeyError, ValueError):
        return HttpResponseBadRequest("day and task are required")
    done = request.POST.get("done") == "1"
    try:
        services.set_task_done(plan, day_number, key, done, source)
    except RuleInputError as error:
        return HttpResponseBadRequest("; ".join(error.problems))
    if not request.headers.get("HX-Request"):
        return redirect(f"{urls['page']}#day-{day_number}")
    with translation.override(plan.language):
        view = plan_pages.plan_view(plan)
        day = next(d for d in view.days if d.number == day_number)
        task = next(t for t in day.tasks if t.key == key)
        return render(request, "aftercare/_check_response.html", {"task": task, "day": day, "urls": urls})


def _file_response(plan: AftercarePlan, kind: str, via: str) -> HttpResponse:
    if kind == "pdf":
        body, content_type, disposition = documents.plan_pdf(plan), "application/pdf", "inline"
    else:
        body, content_type, disposition = documents.plan_ics(plan), "text/calendar; charset=utf-8", "attachment"
    audit.record("aftercare.plan.downloaded", obj=plan, details={"format": kind, "via": via})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{documents.download_name(plan, kind)}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _stop(request, plan: AftercarePlan, page_url: str, via: str):
    services.stop_reminders(plan, via=via)
    if via == "staff":
        messages.success(request, "Reminders stopped for this patient; pending ones are cancelled.")
    else:
        with translation.override(plan.language):
            messages.success(request, _("Reminders are stopped. You will get no more reminder messages from us."))
    return redirect(page_url)


# ------------------------------------------------------------------ signed-in plan pages
@patient_or_staff
@never_cache
@require_GET
def plan_page(request, patient_id, plan_id):
    plan = _plan_for_user(request.user, patient_id, plan_id, "aftercare.view")
    urls = _plan_urls(plan)
    if not request.user.clinic_id:
        return _patient_plan_response(request, plan, urls, via="portal")
    audit.record("aftercare.plan.viewed", obj=plan, details={"via": "staff"})
    context = {
        "view": plan_pages.plan_view(plan),
        "plan": plan,
        "patient": plan.patient,
        "urls": urls,
        "stopped": services.reminders_stopped(plan.patient),
        "messages_sent": list(services.reminders_for(plan)),
        "can_stop": can(request.user, "aftercare.edit", plan),
        "can_view_reminders": can(request.user, "reminder.view", plan),
    }
    return render(request, "aftercare/plan_staff.html", context)


@patient_or_staff
@require_GET
def plan_pdf(request, patient_id, plan_id):
    plan = _plan_for_user(request.user, patient_id, plan_id, "aftercare.view")
    return _file_response(plan, "pdf", via="staff" if request.user.clinic_id else "portal")


@patient_or_staff
@require_GET
def plan_ics(request, patient_id, plan_id):
    plan = _plan_for_user(request.user, patient_id, plan_id, "aftercare.view")
    return _file_response(plan, "ics", via="staff" if request.user.clinic_id else "portal")


@patient_or_staff
@require_POST
def plan_check(request, patient_id, plan_id):
    # Only the patient ticks their own tasks; the policy gives clinicians no such action.
    plan = _plan_for_user(request.user, patient_id, plan_id, "aftercare.track")
    return _check(request, plan, _plan_urls(plan), CheckSource.PORTAL)


@patient_or_staff
@require_POST
def plan_stop_reminders(request, patient_id, plan_id):
    staff = bool(request.user.clinic_id)
    plan = _plan_for_user(request.user, patient_id, plan_id, "aftercare.edit" if staff else "aftercare.track")
    return _stop(request, plan, _plan_urls(plan)["page"], via="staff" if staff else "portal")


@staff_required("aftercare.edit")
@require_http_methods(["GET", "POST"])
def create_plan(request, patient_id, procedure_id):
    patient = get_patient_for_user(request.user, patient_id, "aftercare.edit")
    procedure = procedure_for_patient(patient, procedure_id)
    if procedure is None:
        raise Http404("No such procedure.")
    existing = services.plan_covering(procedure)
    if existing is not None:
        return redirect(_plan_urls(existing)["page"])
    problems: list[str] = []
    if request.method == "POST":
        try:
            plan = services.create_plan_for_procedure(
                procedure, physical_therapy=request.POST.get("physical_therapy") == "on"
            )
        except RuleInputError as error:
            problems = error.problems
        else:
            messages.success(request, "Aftercare plan created; the patient's link and reminders are queued.")
            return redirect(_plan_urls(plan)["page"])
    context = {
        "patient": patient,
        "procedure": procedure,
        "request_preview": record_inputs.plan_request_for(procedure),
        "problems": problems,
    }
    return render(request, "aftercare/create_plan.html", context, status=422 if problems else 200)


# ------------------------------------------------------------------ the tokenised link
@_with_link
@require_GET
def link_plan(request, linked):
    return _patient_plan_response(request, linked.plan, linked.urls, via="link")


@_with_link
@require_GET
def link_pdf(request, linked):
    return _file_response(linked.plan, "pdf", via="link")


@_with_link
@require_GET
def link_ics(request, linked):
    return _file_response(linked.plan, "ics", via="link")


@_with_link
@require_POST
def link_check(request, linked):
    return _check(request, linked.plan, linked.urls, CheckSource.LINK)


@_with_link
@require_POST
def link_stop_reminders(request, linked):
    return _stop(request, linked.plan, linked.urls["page"], via="link")


# ------------------------------------------------------------------ education library
def library_language(request) -> str:
    """?lang= first (staff switch), then a signed-in patient's preference, then the browser's."""
    asked = request.GET.get("lang", "")
    if asked in SUPPORTED_LANGUAGES:
        return asked
    user = request.user
    if user.is_authenticated and not user.clinic_id and user.portal_patient is not None:
        return user.portal_patient.preferred_language
    current = (translation.get_language() or "en")[:2]
    return current if current in SUPPORTED_LANGUAGES else "en"


def _ordered_slugs() -> list[str]:
    available = article_slugs()
    return [s for s in LIBRARY_ORDER if s in available] + sorted(set(available) - set(LIBRARY_ORDER))


@require_GET
def library(request):
    language = library_language(request)
    with translation.override(language):
        articles = [get_article(slug, language) for slug in _ordered_slugs()]
        return render(
            request, "aftercare/library.html", {"articles": articles, "lang": language, "languages": SUPPORTED_LANGUAGES}
        )


@require_GET
def article(request, slug):
    language = library_language(request)
    if slug not in article_slugs():
        raise Http404("No such article.")
    found = get_article(slug, language)
    with translation.override(language):
        context = {
            "article": found,
            "body": render_markdown(without_leading_title(found.body), min_heading=2),
            "lang": language,
            "languages": SUPPORTED_LANGUAGES,
            "translated": found.language == language,
        }
        return render(request, "aftercare/article.html", context)

