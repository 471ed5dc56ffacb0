"""The assessment visit pages: thin views that parse, call a service or pure rule, and render.

The visit page is one form; exam findings, diagnoses, the suggestions panel and the
fibromyalgia check are htmx calls inside it, so unsaved edits are never lost.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can, scope_to_user
from triggerpoint.assessment import (
    documents,
    exam_findings,
    forms,
    summaries,
    visit_amendments,
    visit_diagnoses,
    visit_drafting,
    visit_editor,
    visit_reads,
    visit_signing,
)
from triggerpoint.assessment.diagnoses import search_codes
from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --------------------------------------------------------------------------- lists and creation


@staff_required("assessment.view")
@require_GET
def patient_visits(request, patient_id):
    patient = get_patient_for_user(request.user, patient_id, "patient.view_clinical")
    visits = list(scope_to_user(Visit.objects.filter(patient_id__in=chart_ids(patient)), request.user, "assessment.view"))
    visit_reads.view_patient_visits(request.user, patient, len(visits))
    return render(
        request,
        "assessment/patient_visits.html",
        {
            "patient": patient,
            "visits": visits,
            "can_create": can(request.user, "assessment.edit", patient),
        },
    )


@staff_required("assessment.edit")
@require_POST
def create(request, patient_id):
    patient = get_patient_for_user(request.user, patient_id, "patient.view_clinical")
    visit = visit_drafting.create_visit(request.user, patient, chief_complaint=request.POST.get("chief_complaint", ""))
    return redirect("assessment:visit", patient_id=patient.public_id, visit_id=visit.public_id)


# --------------------------------------------------------------------------- the visit page


@staff_required("assessment.view")
@require_GET
def visit_page(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.view")
    if visit.is_signed or not can(request.user, "assessment.edit", visit):
        return redirect("assessment:summary", patient_id=patient_id, visit_id=visit_id)
    visit_reads.view_visit(request.user, visit, what="visit page")
    return render(request, "assessment/visit.html", visit_editor.visit_page_context(request.user, visit))


@staff_required("assessment.edit")
@require_POST
def save(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    if visit.is_signed:
        messages.error(request, "This visit is signed; changes are amendments.")
        return redirect("assessment:summary", patient_id=patient_id, visit_id=visit_id)
    changes = forms.visit_changes(request.POST)
    signing = request.POST.get("action") == "sign"
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = visit.version
    errors: list[str] = []
    stale = False
    try:
        with transaction.atomic():
            visit = visit_drafting.save_visit_draft(request.user, visit, expected, changes)
            if signing:
                if not can(request.user, "assessment.sign", visit):
                    raise PermissionDenied("Only a physician signs an assessment visit.")
                visit_signing.sign_visit(request.user, visit, visit.version)
    except RuleInputError as error:
        errors = error.problems
    except StaleVersion as error:
        errors = [str(error)]
        stale = True
    except ImmutableRecord as error:
        errors = [str(error)]
    if errors:
        unsaved = Visit.objects.get(pk=visit.pk)
        visit_editor.apply_unsaved(unsaved, changes)
        if stale:
            # The page shows what was typed over a newer save: it keeps the version it was typed on, so
            # neither its autosave nor another Save can write it over the other person's work unseen.
            unsaved.version = expected
        context = visit_editor.visit_page_context(request.user, unsaved, errors=errors, posted=request.POST)
        context["signing_attempted"] = signing
        return render(request, "assessment/visit.html", context, status=422)
    if signing:
        messages.success(request, "Visit signed. Later changes are recorded as amendments.")
        return redirect("assessment:summary", patient_id=patient_id, visit_id=visit_id)
    messages.success(request, "Draft saved.")
    return redirect(reverse("assessment:visit", args=[patient_id, visit_id]) + "#" + request.POST.get("return_to", "top"))


def _posted_version(post) -> int:
    """The version the page was read at; the autosave refuses to guess it (a guess could overwrite someone's save)."""
    raw = post.get("version", "")
    if not raw.isdigit() or int(raw) < 1:
        raise RuleInputError(f"version is required: the version of the visit the page was read at, not {raw!r}")
    return int(raw)


def _refusal(status: int, detail, **facts) -> JsonResponse:
    """The house error shape (`{"detail": ...}`, core/api_errors.py) with the facts the page shows beside it."""
    return JsonResponse({"detail": detail, **facts}, status=status, json_dumps_params={"ensure_ascii": False})


def _who(saver, user) -> str:
    """Who saved the version that made the page's stale: a name, or "you" when it was the same account elsewhere."""
    if saver is None:
        return "someone"
    if saver.pk == user.pk:
        return "You"
    return saver.get_full_name() or saver.username


def _saved_at(visit: Visit) -> str:
    return timezone.localtime(visit.updated_at, visit.clinic.zone).strftime("%H:%M:%S")


@staff_required("assessment.edit")
@require_POST
def autosave(request, patient_id, visit_id):
    """The editor's background save: the page's form fields (exactly what "Save draft" posts) in, JSON out.

    Same parser and service as `save`, so the two cannot disagree about what is valid. Answers in
    the house error shape (`{"detail": ...}`): 422 lists every problem and saves nothing; 409 for a
    stale version names who saved which version when (nothing is written over their work), or says
    the visit is signed. 200 carries the new version, which the page sends with its next save.
    """
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    try:
        expected = _posted_version(request.POST)
        visit = visit_drafting.save_visit_draft(
            request.user, visit, expected, forms.visit_changes(request.POST), channel="autosave"
        )
    except RuleInputError as error:
        return _refusal(422, error.problems)
    except ImmutableRecord as error:
        return _refusal(409, str(error), reason="signed", summary_url=reverse("assessment:summary", args=[patient_id, visit_id]))
    except StaleVersion as error:
        current = Visit.all_objects.select_related("updated_by").get(pk=visit.pk)
        by = current.updated_by
        return _refusal(
            409,
            str(error),
            reason="stale",
            your_version=error.expected,
            current_version=error.current,
            saved_by=_who(by, request.user),
            by_you=by is not None and by.pk == request.user.pk,
            saved_at=_saved_at(current),
        )
    return JsonResponse({"version": visit.version, "saved_at": _saved_at(visit)})


@staff_required("assessment.edit")
@require_POST
def suggestions(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    drawing = forms.visit_changes(request.POST)["pain_drawing"]
    context = visit_editor.suggestion_context(visit, drawing, checked_referred=request.POST.getlist("exam_referred"))
    context["oob"] = True
    return render(request, "assessment/_suggestions.html", context)


@staff_required("assessment.edit")
@require_POST
def exam_add(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    errors: list[str] = []
    added = None
    try:
        added = exam_findings.record_exam_finding(request.user, visit, forms.exam_data(request.POST))
    except (RuleInputError, ImmutableRecord) as error:
        errors = getattr(error, "problems", [str(error)])
    planned = request.POST.getlist("planned_site")
    if added is not None and added.classification == "active":
        planned.append(f"{added.muscle}:{added.side}")
    context = visit_editor.exam_context(visit, errors=errors, planned=planned, just_added=added)
    # htmx does not swap 4xx responses, so a refused finding is shown with 200 and its errors.
    response = render(request, "assessment/_exam_update.html", context)
    if added is not None:
        response["HX-Trigger"] = "exam-recorded"
    return response


@staff_required("assessment.edit")
@require_POST
def exam_remove(request, patient_id, visit_id, finding_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    finding = visit_reads.get_child(visit, ExamFinding, finding_id)
    errors: list[str] = []
    saved = None
    try:
        saved = exam_findings.remove_exam_finding(request.user, finding)
    except ImmutableRecord as error:
        errors = [str(error)]
    visit.refresh_from_db()
    planned = [p for p in request.POST.getlist("planned_site") if p != f"{finding.muscle}:{finding.side}"]
    context = visit_editor.exam_context(visit, errors=errors, planned=planned)
    if not _is_htmx(request):
        return redirect("assessment:visit", patient_id=patient_id, visit_id=visit_id)
    response = render(request, "assessment/_exam_update.html", context)
    if saved is not None:
        # Withdrawing a planned site saved the visit: the editor that was at `from` carries on at `to`
        # (visit.js), instead of its next autosave being refused as if someone else had saved.
        response["HX-Trigger"] = json.dumps({"visit-version": {"from": saved[0], "to": saved[1]}})
    return response


@staff_required("assessment.edit")
@require_GET
def diagnosis_search(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    query = request.GET.get("dx_q", "").strip()
    try:
        results = search_codes(query, limit=12, on_date=visit.visit_date) if query else ()
    except RuleInputError:
        results = ()
    return render(
        request,
        "assessment/_dx_results.html",
        {"visit": visit, "results": visit_editor.code_rows(results, visit.visit_date), "query": query},
    )


def _diagnoses_response(request, visit, errors=None):
    # Shown with 200 even when refused: htmx does not swap 4xx responses.
    response = render(
        request,
        "assessment/_diagnoses.html",
        {"visit": visit, "diagnoses": list(visit.diagnoses.all()), "dx_errors": errors or [], "editable": True},
    )
    if not errors:
        response["HX-Trigger"] = "diagnosis-changed"
    return response


@staff_required("assessment.edit")
@require_POST
def diagnosis_add(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    errors: list[str] = []
    try:
        visit_diagnoses.add_diagnosis(request.user, visit, request.POST.get("code", ""))
    except (RuleInputError, ImmutableRecord) as error:
        errors = getattr(error, "problems", [str(error)])
    return _diagnoses_response(request, visit, errors)


@staff_required("assessment.edit")
@require_POST
def diagnosis_primary(request, patient_id, visit_id, diagnosis_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    visit_diagnoses.set_primary_diagnosis(request.user, visit_reads.get_child(visit, VisitDiagnosis, diagnosis_id))
    return _diagnoses_response(request, visit)


@staff_required("assessment.edit")
@require_POST
def diagnosis_remove(request, patient_id, visit_id, diagnosis_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    visit_diagnoses.remove_diagnosis(request.user, visit_reads.get_child(visit, VisitDiagnosis, diagnosis_id))
    return _diagnoses_response(request, visit)


@staff_required("assessment.edit")
@require_POST
def fibromyalgia_check(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    inputs = forms.fibromyalgia_inputs(request.POST)
    context = visit_editor.fibromyalgia_preview(inputs)
    context["visit"] = visit
    return render(request, "assessment/_fibro_result.html", context)


@staff_required("assessment.edit")
@require_POST
def sign_check(request, patient_id, visit_id):
    """What signing would still need, from the saved exam and diagnoses and the form as it is now."""
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.edit")
    changes = forms.visit_changes(request.POST)
    visit_editor.apply_unsaved(visit, {"nrs_average": changes["nrs_average"], "planned_sites": changes["planned_sites"]})
    if not isinstance(visit.nrs_average, int):
        visit.nrs_average = None
    return render(request, "assessment/_sign_check.html", {"signing": visit_signing.signing_check(visit)})


# --------------------------------------------------------------------------- output


@staff_required("assessment.view")
@require_GET
def summary(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.view")
    visit_reads.view_visit(request.user, visit, what="summary")
    context = summaries.summary_context(request.user, visit)
    return render(request, "assessment/summary.html", context)


@staff_required("assessment.view")
@require_GET
def summary_pdf(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.view")
    visit_reads.view_visit(request.user, visit, what="chart pdf")
    pdf = documents.chart_pdf(request.user, visit)
    return _pdf_response(pdf, f"assessment-{visit.visit_date}-{visit.patient.mrn}.pdf")


@staff_required("assessment.view")
@require_GET
def patient_summary(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.view")
    visit_reads.view_visit(request.user, visit, what="patient summary")
    return render(request, "assessment/patient_summary.html", summaries.patient_summary_context(visit))


@staff_required("assessment.view")
@require_GET
def patient_summary_pdf(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.view")
    visit_reads.view_visit(request.user, visit, what="patient pdf")
    pdf = documents.patient_pdf(visit)
    return _pdf_response(pdf, f"your-visit-{visit.visit_date}.pdf")


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- amendments


@staff_required("assessment.amend")
@require_http_methods(["GET", "POST"])
def amend(request, patient_id, visit_id):
    visit = visit_reads.get_visit(request.user, patient_id, visit_id, "assessment.amend")
    if not visit.is_signed:
        messages.error(request, "Only a signed visit is amended; edit the draft instead.")
        return redirect("assessment:visit", patient_id=patient_id, visit_id=visit_id)
    current = visit_reads.current_record(visit)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        changes = forms.amendment_changes(request.POST, current)
        try:
            visit_amendments.amend_visit(request.user, visit, request.POST.get("reason", ""), changes)
        except RuleInputError as error:
            errors = error.problems
            status = 422
        else:
            messages.success(request, "Amendment recorded.")
            return redirect("assessment:summary", patient_id=patient_id, visit_id=visit_id)
    else:
        visit_reads.view_visit(request.user, visit, what="amendment form")
    context = summaries.amend_context(visit, current, errors=errors, posted=request.POST if errors else None)
    return render(request, "assessment/amend.html", context, status=status)
