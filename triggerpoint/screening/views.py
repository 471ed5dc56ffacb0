"""Screening pages for staff: the clinic's screenings, one screening, its answers, review, override and link.

Views are thin: they find the record through the access policy, hand the form's data to a
named service, and render. Three doors lead to a screening: staff (signed in, second
factor, here), the patient's portal and a tokenised link that opens one screening's
questionnaire without a login until it expires (both in ``patient_views``). The consent
pages are in ``consent_views``.

The staff pages are English; the preparation handout staff print is in the patient's
language (``patient_views.preparation_handout``).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can, require, scope_to_user
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user, surviving_chart
from triggerpoint.screening import history, prefill, questionnaire_link, services
from triggerpoint.screening.display import SEVERITY_WORDS, answer_lines, plan_summary
from triggerpoint.screening.facts import policy_for
from triggerpoint.screening.forms import (
    OverrideForm,
    PlanForm,
    ReviewForm,
    SendLinkForm,
    StaffQuestionnaireForm,
)
from triggerpoint.screening.models import BLOCKING_STATUSES, Consent, ScreeningRecord
from triggerpoint.screening.patient_views import preparation_context, preparation_handout

ANSWER_SOURCE_LABELS = {"staff": "recorded by staff", "patient_link": "patient, by link", "portal": "patient, in the portal"}


# ------------------------------------------------------------------ lookups through the policy
def staff_screening(request, patient_id, screening_id, action: str) -> ScreeningRecord:
    patient = get_patient_for_user(request.user, patient_id, action)
    screening = get_object_or_404(
        ScreeningRecord.objects.select_related("patient", "clinic", "reviewed_by", "overridden_by"),
        public_id=screening_id,
        patient_id__in=chart_ids(patient),
    )
    require(request.user, action, screening)
    return screening


def _detail_url(screening: ScreeningRecord) -> str:
    return reverse("screening:detail", args=[screening.patient.public_id, screening.public_id])


def _problems(exc: RuleInputError) -> str:
    return "; ".join(exc.problems)


# ------------------------------------------------------------------ staff pages
@staff_required("screening.view")
def index(request):
    """The clinic's screenings from yesterday on: what is planned and what still needs someone."""
    today = timezone.localdate()
    screenings = list(
        scope_to_user(ScreeningRecord.objects.select_related("patient"), request.user, "screening.view")
        .filter(planned_procedure_date__gte=today - timedelta(days=1))
        .order_by("planned_procedure_date", "patient__family_name")[:200]
    )
    audit.record("screening.screening.listed", clinic=request.user.clinic, details={"listed": len(screenings)})
    return render(request, "screening/index.html", {"screenings": screenings, "today": today})


@staff_required("screening.view")
def patient_screenings(request, patient_id):
    patient = get_patient_for_user(request.user, patient_id, "screening.view")
    screenings = list(ScreeningRecord.objects.filter(patient_id__in=chart_ids(patient)))
    audit.record("screening.screening.listed", patient=patient, details={"listed": len(screenings)})
    return render(
        request,
        "screening/patient_list.html",
        {"patient": patient, "screenings": screenings, "can_create": can(request.user, "screening.edit", patient)},
    )


@staff_required("screening.edit")
@require_http_methods(["GET", "POST"])
def create(request, patient_id):
    patient = get_patient_for_user(request.user, patient_id, "screening.edit")
    # The form starts from the latest signed assessment plan and the date of the patient's procedure
    # appointment (the one the schedule or worklist named in ?appointment=, else the next); each prefilled
    # part is marked.
    prefilled = prefill.new_screening_prefill(patient, request.GET.get("appointment") or None)
    initial = PlanForm.initial_from(prefilled.plan)
    if prefilled.planned_date is not None:
        initial["planned_procedure_date"] = prefilled.planned_date
    form = PlanForm(request.POST or None, initial=initial)
    marked = prefilled.labels()
    if request.method == "POST" and form.is_valid():
        plan = form.plan()
        planned_date = form.cleaned_data["planned_procedure_date"]
        sources = prefilled.sources_for(plan, planned_date)
        marked = {part: prefill.source_label(source) for part, source in sources.items()}
        try:
            screening = services.create_screening(request.user, patient, planned_date, plan, prefill=prefilled)
        except RuleInputError as exc:
            form.add_error(None, _problems(exc))
        else:
            messages.success(request, "Screening created. Record the answers or send the patient the questionnaire link.")
            return redirect(_detail_url(screening))
    elif form.is_bound:
        marked = {}
    elif marked:
        # The form shows the patient's signed assessment plan and/or appointment: a read of their record.
        details = {"parts": sorted(marked)}
        if prefilled:
            details["assessment"] = prefilled.source["id"]
        if prefilled.date_source:
            details["appointment"] = prefilled.date_source["id"]
        audit.record("screening.plan.prefilled", patient=patient, details=details)
    return render(request, "screening/create.html", {"patient": patient, "form": form, "prefilled": marked})


@staff_required("screening.view")
def detail(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.view")
    services.view_screening(request.user, screening)
    user = request.user
    consents = list(Consent.objects.filter(screening=screening).select_related("signed_recorded_by"))
    context = {
        "screening": screening,
        "patient": screening.patient,
        "allergies": list(surviving_chart(screening.patient).allergies.all()),  # moved there by a merge
        "plan": plan_summary(screening.plan),
        "answers": answer_lines(screening.answers or {}) if screening.answers_submitted_at else [],
        "severity_words": SEVERITY_WORDS,
        "blocking": screening.status in BLOCKING_STATUSES,
        "allows_procedure": services.screening_allows_procedure(screening),
        "needs_review": services.screening_needs_review(screening),
        "answers_source_label": ANSWER_SOURCE_LABELS.get(screening.answers_source, screening.answers_source),
        "consents": consents,
        "open_consent": next((c for c in consents if not c.is_signed), None),
        "has_signed": any(c.is_signed for c in consents),
        "can_edit": can(user, "screening.edit", screening),
        "can_review": can(user, "screening.review", screening),
        "can_override": can(user, "screening.override", screening),
        "can_send_link": can(user, "screening.send_link", screening),
        "can_consent": can(user, "consent.sign", screening),
        "review_form": ReviewForm(initial={"version": screening.version}),
        "override_form": OverrideForm(initial={"version": screening.version}),
        "send_form": SendLinkForm(),
        # From the patient's signed procedure notes (procedures owns the counting): 12-month steroid
        # total, last toxin, and the payer's same-region interval / 12-month session count.
        "signed_history": history.planned_session_checks(
            screening.patient,
            screening.planned_procedure_date,
            [site.get("muscle") for site in (screening.plan or {}).get("sites", []) if isinstance(site, dict)],
        ),
    }
    return render(request, "screening/detail.html", context)


@staff_required("screening.edit")
@require_http_methods(["GET", "POST"])
def answers(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.edit")
    ask_pregnancy = screening.patient.sex != "male"
    initial = StaffQuestionnaireForm.initial_from(screening.answers or {})
    form = StaffQuestionnaireForm(
        request.POST or None,
        initial=initial,
        screening=screening,
        ask_pregnancy=ask_pregnancy,
        policy=policy_for(screening.clinic),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_answers(screening, form.answers, source="staff", user=request.user)
        except RuleInputError as exc:
            form.add_error(None, _problems(exc))
        except StaleVersion as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Answers saved and the screening evaluated again.")
            return redirect(_detail_url(screening))
    return render(request, "screening/answers.html", {"screening": screening, "patient": screening.patient, "form": form})


@staff_required("screening.edit")
@require_POST
def evaluate(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.edit")
    screening = services.evaluate_screening(screening)
    messages.success(request, f"Evaluated: {screening.get_status_display()}.")
    return redirect(_detail_url(screening))


def _version(request) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError as exc:
        raise Http404("Missing version.") from exc


@staff_required("screening.review")
@require_POST
def review(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.review")
    try:
        services.review_screening(request.user, screening, note=request.POST.get("note", ""), expected_version=_version(request))
    except (services.ScreeningStateError, StaleVersion) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Screening reviewed and signed off.")
    return redirect(_detail_url(screening))


@staff_required("screening.override")
@require_POST
def override(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.override")
    try:
        services.override_screening(
            request.user, screening, reason=request.POST.get("reason", ""), expected_version=_version(request)
        )
    except (services.ScreeningStateError, StaleVersion) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Override recorded. The procedure may proceed; the reason is in the audit log.")
    return redirect(_detail_url(screening))


@staff_required("screening.send_link")
@require_POST
def send_link(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.send_link")
    form = SendLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose email or text message.")
    else:
        try:
            note = questionnaire_link.send_questionnaire_link(request.user, screening, channel=form.cleaned_data["channel"])
        except services.ScreeningStateError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Questionnaire link queued to {note.to} (valid 7 days).")
    if not can(request.user, "screening.view", screening):
        return redirect("core:worklist")
    return redirect(_detail_url(screening))


@staff_required("screening.view")
def preparation(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.view")
    audit.record("screening.preparation.viewed", obj=screening, details={"channel": "ui"})
    return render(request, "screening/preparation.html", preparation_context(screening, pdf_url=reverse(
        "screening:preparation_pdf", args=[screening.patient.public_id, screening.public_id])))


@staff_required("screening.view")
def preparation_pdf(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "screening.view")
    audit.record("screening.preparation.printed", obj=screening, details={"channel": "ui"})
    return preparation_handout(screening)  # the handout the patient takes home: in the patient's language
