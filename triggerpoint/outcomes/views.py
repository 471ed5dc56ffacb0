"""Outcome pages: the per-patient chart, the repeat decision, the clinic dashboard and exports,
the questionnaire behind a tokenised link, and the patient's portal questionnaire and pain diary."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import patient_required, staff_required
from triggerpoint.accounts.policy import can, require
from triggerpoint.audit import services as audit
from triggerpoint.catalogues import instruments as inst
from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications.services import LinkInvalid, resolve_link
from triggerpoint.outcomes import analytics, display, exports, outcome_requests, services
from triggerpoint.outcomes.models import Dimension, OutcomeRequest, RequestStatus, Source, TimePoint
from triggerpoint.patients.language import link_page_language
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user
from triggerpoint.procedures.selectors import procedure_for_patient, signed_procedures

EXPORT_FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def _date(value: str | None, kind: str = "scheduled") -> date | None:
    """A date from the query string; an unreadable or implausible one counts as not given."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return None if plausible.problem(kind, parsed) else parsed


class ImplausibleFilter(ValueError):
    """An analytics date filter outside `plausible`'s report window (a 400 naming the field)."""


def _report_dates(request) -> tuple[date | None, date | None]:
    problems: list[str] = []
    dates = []
    params = request.POST if request.method == "POST" else request.GET
    for field in ("date_from", "date_to"):
        raw = params.get(field)
        try:
            parsed = date.fromisoformat(raw) if raw else None
        except ValueError:
            parsed = None  # unreadable filters are ignored, as the date inputs never send them
        plausible.check("report", parsed, field, problems)
        dates.append(parsed)
    if problems:
        raise ImplausibleFilter("; ".join(problems))
    return dates[0], dates[1]


# ----------------------------------------------------------------------------- staff: one patient
def _repeat_inputs(request, patient, overview_last) -> tuple[date, list[str], str]:
    planned = _date(request.GET.get("planned_date")) or timezone.localdate()
    regions = [r for r in request.GET.getlist("regions") if r]
    payer = request.GET.get("payer", "")
    if not regions and overview_last is not None:
        regions = services.regions_of_muscles(s.muscle for s in overview_last.sites.all())
    if not payer and overview_last is not None:
        payer = overview_last.payer or ""
    return planned, regions, payer


@staff_required("outcomes.view")
def patient_outcomes(request, public_id):
    with translation.override("en"):  # staff pages stay in English; the chart's words are marked for patients
        return _patient_outcomes(request, public_id)


def _patient_outcomes(request, public_id):
    patient = get_patient_for_user(request.user, public_id, "outcomes.view")
    overview = display.patient_overview(patient)
    planned, regions, payer = _repeat_inputs(request, patient, overview["last_procedure"])
    context = {
        "patient": patient,
        **overview,
        **display.repeat_context(patient, planned, regions, payer),
        "can_record": can(request.user, "outcomes.record", patient),
        "record_instruments": [inst.get_instrument(i) for i in ("nrs_pain", "percent_relief", "pgic", "peg3")],
        "time_points": TimePoint.choices,
    }
    audit.record("outcomes.patient.viewed", obj=patient, details={"procedures": len(overview["rows"])})
    return render(request, "outcomes/patient.html", context)


@staff_required("outcomes.view")
def repeat_decision(request, public_id):
    """The repeat-injection decision partial (htmx target; the procedures page can load it too)."""
    patient = get_patient_for_user(request.user, public_id, "outcomes.view")
    last = signed_procedures(patient_id__in=chart_ids(patient)).order_by("-procedure_date").first()
    planned, regions, payer = _repeat_inputs(request, patient, last)
    context = display.repeat_context(patient, planned, regions, payer)
    audit.record("outcomes.repeat_decision.viewed", obj=patient,
                 details={"planned_date": planned.isoformat(), "regions": regions, "payer": payer})
    return render(request, "outcomes/_repeat_decision.html", context)


def _answers_from_form(data, instrument_ids) -> dict[str, dict]:
    """Form fields ``<instrument>__<item>`` to answers; blank means skipped, text is passed on to be refused."""
    answers: dict[str, dict] = {}
    for instrument_id in instrument_ids:
        instrument = inst.get_instrument(instrument_id)
        values = {}
        for item in instrument.items:
            raw = (data.get(f"{instrument_id}__{item.id}") or "").strip()
            if raw == "":
                values[item.id] = None
                continue
            try:
                values[item.id] = int(raw)
            except ValueError:
                values[item.id] = raw
        answers[instrument_id] = values
    return answers


@staff_required("outcomes.record")
@require_POST
def record_measurement(request, public_id):
    patient = get_patient_for_user(request.user, public_id, "outcomes.record")
    instrument_id = request.POST.get("instrument", "")
    procedure = None
    procedure_id = request.POST.get("procedure", "")
    try:
        if procedure_id:
            procedure = procedure_for_patient(patient, procedure_id)
            if procedure is None:
                raise RuleInputError("unknown procedure for this patient")
        if instrument_id not in inst.load_instruments():
            raise RuleInputError(f"unknown instrument {instrument_id!r}")
        services.record_measurements(
            patient=patient,
            instrument_answers=_answers_from_form(request.POST, [instrument_id]),
            time_point=request.POST.get("time_point", ""),
            source=Source.CLINIC,
            procedure=procedure,
        )
    except RuleInputError as error:
        messages.error(request, "Not saved: " + "; ".join(error.problems))
    else:
        messages.success(request, "Measurement saved.")
    return redirect("outcomes:patient", public_id=patient.public_id)


# ----------------------------------------------------------------------------- staff: clinic analytics
def _report_for(request):
    require(request.user, "analytics.view")
    clinic = request.user.clinic
    date_from, date_to = _report_dates(request)
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    report = analytics.clinic_report(clinic.pk, date_from, date_to, labels=display.report_labels(clinic.pk))
    return clinic, date_from, date_to, report


@staff_required("analytics.view")
def dashboard(request):
    try:
        clinic, date_from, date_to, report = _report_for(request)
    except ImplausibleFilter as error:
        messages.error(request, f"Filter not applied: {error}.")
        query = request.GET.copy()
        for field in ("date_from", "date_to"):
            query.pop(field, None)
        return redirect(f"{request.path}?{query.urlencode()}")
    by = request.GET.get("by", Dimension.GUIDANCE.value)
    if by not in {d.value for d in analytics.BREAKDOWNS}:
        by = Dimension.GUIDANCE.value
    audit.record("outcomes.analytics.viewed", clinic=clinic,
                 details={"date_from": str(date_from or ""), "date_to": str(date_to or ""), "by": by})
    query = request.GET.copy()
    query.pop("by", None)
    context = {
        "report": report,
        "date_from": date_from,
        "date_to": date_to,
        "by": by,
        "dimensions": [(d.value, d.label) for d in analytics.BREAKDOWNS],
        "charts": display.dashboard_charts(report, by),
        "filter_query": query.urlencode(),
        "can_export": can(request.user, "analytics.export"),
        "can_export_deidentified": can(request.user, "analytics.export_deidentified"),
    }
    return render(request, "outcomes/dashboard.html", context)


def _download(content: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@staff_required("analytics.export")
def export_report(request, fmt):
    if fmt not in EXPORT_FORMATS:
        raise Http404("Unknown export format.")
    try:
        clinic, date_from, date_to, report = _report_for(request)
    except ImplausibleFilter as error:
        return HttpResponseBadRequest(f"{error}.", content_type="text/plain; charset=utf-8")
    rows = analytics.report_rows(report)
    columns = list(rows[0]) if rows else ["dimension"]
    content = exports.to_csv(rows, columns) if fmt == "csv" else exports.to_parquet(rows, columns)
    audit.record("outcomes.analytics.exported", clinic=clinic,
                 details={"format": fmt, "rows": len(rows), "date_from": str(date_from or ""), "date_to": str(date_to or "")})
    return _download(content, fmt, f"outcomes-report-{timezone.localdate():%Y%m%d}")


RESEARCH_FORMATS = {"zip": "application/zip", "parquet": "application/vnd.apache.parquet"}


@staff_required("analytics.export_deidentified")
@require_http_methods(["GET", "POST"])
def export_deidentified(request, fmt):
    """The research dataset with its manifest: a zip (data.csv + manifest.json) or Parquet (manifest in metadata).

    GET: pseudonyms under a key made for this export and discarded. POST with a
    `study_key` (the analyst's own secret, never stored): pseudonyms shared by
    every export made with that key.
    """
    if fmt not in RESEARCH_FORMATS:
        raise Http404("Unknown export format.")
    clinic = request.user.clinic
    try:
        date_from, date_to = _report_dates(request)
    except ImplausibleFilter as error:
        return HttpResponseBadRequest(f"{error}.", content_type="text/plain; charset=utf-8")
    study_key = (request.POST.get("study_key") or None) if request.method == "POST" else None
    try:
        rows, manifest = exports.deidentified_export(clinic.pk, date_from, date_to, study_key=study_key)
    except exports.StudyKeyTooShort as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    columns = exports.DEIDENTIFIED_COLUMNS
    if fmt == "zip":
        content = exports.to_zip({"data.csv": exports.to_csv(rows, columns),
                                  "manifest.json": exports.manifest_json(manifest)})
    else:
        content = exports.to_parquet(rows, columns, metadata={b"triggerpoint.manifest": exports.manifest_json(manifest)})
    audit.record("outcomes.analytics.exported_deidentified", clinic=clinic,
                 details={"format": fmt, "rows": len(rows), "export_id": manifest["export_id"],
                          "key_policy": manifest["pseudonym_key"]["policy"], "years": manifest["years"]})
    response = HttpResponse(content, content_type=RESEARCH_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="outcomes-research-{timezone.localdate():%Y%m%d}.{fmt}"'
    return response


# ----------------------------------------------------------------------------- patients: questionnaire
# Patient pages render in the patient's preferred language (display.patient_language), like the
# aftercare and follow-up pages: the page words come from outcomes/locale, the questions and answer
# labels from the instrument files. The answers are the same numbers in every language.

LINK_MESSAGES = (  # resolve_link's refusals, marked so the Spanish catalog has them
    gettext_noop("This link is not valid."),
    gettext_noop("This link has been withdrawn. Please contact the clinic."),
    gettext_noop("This link has expired. Please contact the clinic for a new one."),
)


def _in_language_of(patient):
    """`with _in_language_of(patient):` around everything a patient page validates and renders."""
    return translation.override(display.patient_language(patient))


def _problems_for_patient(error: RuleInputError, data, instrument_ids, language: str) -> list[str]:
    """Which questions still need an answer (by their text, in the patient's language), then any other problem."""
    unanswered = getattr(error, "unanswered", [])
    messages_ = [
        gettext("Please answer this question: %(question)s")
        % {"question": getattr(inst.get_instrument(instrument_id).item(item_id).text, language)}
        for instrument_id, item_id in unanswered
    ]
    others = [p for p in error.problems if not p.endswith(services.UNANSWERED)]
    if others or not messages_:
        worded = _patient_problems(others, data, instrument_ids, language)
        if messages_ and language != "en":
            worded = [m for m in worded if m != gettext(GENERIC_PROBLEM)]
        messages_ += worded
    return messages_


GENERIC_PROBLEM = gettext_noop("We could not save your answers. Please check them and send them again.")


def _patient_problems(problems: list[str], data, instrument_ids, language: str) -> list[str]:
    """The answers' problems as the patient reads them.

    English shows the checks' own messages. Another language words them per question (the
    checks name items by id, in English), so a patient never reads an English error.
    """
    if language == "en":
        return list(problems)
    worded: list[str] = []
    for instrument_id in instrument_ids:
        instrument = inst.get_instrument(instrument_id)
        for item in instrument.items:
            raw = (data.get(f"{instrument_id}__{item.id}") or "").strip()
            if raw and (not raw.lstrip("-").isdigit() or int(raw) not in item.allowed_values):
                worded.append(gettext("Please choose one of the answers to this question: %(question)s")
                              % {"question": getattr(item.text, language, item.text.en)})
    if any(p == "every question was left blank" for p in problems):
        worded.append(gettext("Please answer at least one question."))
    if any(p.startswith("this questionnaire") for p in problems):
        worded.append(gettext("This questionnaire no longer takes answers."))
    return worded or [gettext(GENERIC_PROBLEM)]


def _questionnaire_context(outcome_request: OutcomeRequest, language: str, errors=None, values=None) -> dict:
    blocks = []
    values = values or {}
    for instrument_id in outcome_request.instruments:
        instrument = inst.get_instrument(instrument_id)
        items = []
        for item in instrument.items:
            name = f"{instrument_id}__{item.id}"
            if item.response_type == "choice":
                options = [(c.value, getattr(c.label, language)) for c in item.choices]
            elif item.max_value - item.min_value > 10:
                step = (item.max_value - item.min_value) // 10
                options = [(v, f"{v}%") for v in range(item.min_value, item.max_value + 1, step)]
            else:
                options = [(v, str(v)) for v in range(item.min_value, item.max_value + 1)]
            anchors = {a.value: getattr(a.label, language) for a in item.anchors}
            items.append({
                "name": name, "text": getattr(item.text, language), "options": options, "choice": item.response_type == "choice",
                "low": anchors.get(item.min_value, ""), "high": anchors.get(item.max_value, ""),
                "value": str(values.get(name, "")),
            })
        blocks.append({"instrument": instrument, "items": items})
    return {"outcome_request": outcome_request, "blocks": blocks, "errors": errors or [], "lang": language,
            "when": display.time_point_words(outcome_request.time_point)}


def _answer(request, outcome_request: OutcomeRequest, source: str, template_extra: dict):
    patient = outcome_request.patient
    language = display.patient_language(patient)
    with _in_language_of(patient):
        today = patient.clinic.today()
        if outcome_request.status != RequestStatus.PENDING or today > outcome_request.answer_by:
            return render(request, "outcomes/thanks.html", {"closed": outcome_request.status != RequestStatus.COMPLETED,
                                                             "lang": language, **template_extra})
        if request.method == "POST":
            answers = _answers_from_form(request.POST, outcome_request.instruments)
            try:
                services.answer_request(outcome_request, answers, source)
            except RuleInputError as error:
                problems = _problems_for_patient(error, request.POST, outcome_request.instruments, language)
                context = _questionnaire_context(outcome_request, language, problems, request.POST)
                return render(request, "outcomes/questionnaire.html", {**context, **template_extra}, status=422)
            return render(request, "outcomes/thanks.html", {"closed": False, "lang": language, **template_extra})
        audit.record("outcomes.request.opened", obj=outcome_request, patient=patient, details={"channel": source})
        return render(request, "outcomes/questionnaire.html",
                      {**_questionnaire_context(outcome_request, language), **template_extra})


def _invalid_link(request, token: str, error):
    """The refusal page, in the language of the patient the link was sent to when it is a real (expired or
    withdrawn) link; otherwise in the browser's language (patients.language.link_page_language)."""
    with translation.override(link_page_language(getattr(error, "patient", None))):
        return render(request, "outcomes/link_invalid.html", {"message": gettext(str(error))}, status=404)


@require_http_methods(["GET", "POST"])
def respond(request, token):
    """The questionnaire behind the tokenised link in the message (no login)."""
    try:
        link = resolve_link(token, outcome_requests.LINK_PURPOSE)
    except LinkInvalid as error:
        return _invalid_link(request, token, error)
    outcome_request = get_object_or_404(OutcomeRequest, public_id=link.target_id, patient=link.patient)
    return _answer(request, outcome_request, Source.CHECKIN, {"via_link": True})


@patient_required
@require_http_methods(["GET", "POST"])
def portal_request(request, public_id):
    patient = request.user.portal_patient
    try:
        outcome_request = OutcomeRequest.objects.select_related("patient", "procedure").get(public_id=public_id)
    except (OutcomeRequest.DoesNotExist, ValueError) as exc:
        raise Http404("No such questionnaire.") from exc
    require(request.user, "outcomes.record", outcome_request)
    if outcome_request.patient_id not in chart_ids(patient):
        raise Http404("No such questionnaire.")
    return _answer(request, outcome_request, Source.PORTAL, {"via_link": False})


@patient_required
@require_http_methods(["GET", "POST"])
def diary(request):
    """The patient's pain diary: a quick 0-10 entry whenever they like, and their own chart."""
    patient = request.user.portal_patient
    require(request.user, "outcomes.record", patient)
    language = display.patient_language(patient)
    with _in_language_of(patient):
        errors: list[str] = []
        if request.method == "POST":
            answers = _answers_from_form(request.POST, ["nrs_pain"])["nrs_pain"]
            answers = {"now": answers.get("now"), "average": answers.get("average")}
            try:
                if answers["now"] is None:
                    raise RuleInputError(gettext("Please choose a number for your pain right now."))
                services.record_diary_entry(patient, answers)
            except RuleInputError as error:
                errors = error.problems if answers["now"] is None else _patient_problems(
                    error.problems, request.POST, ["nrs_pain"], language)
            else:
                messages.success(request, gettext("Saved. Thank you."))
                return redirect("outcomes:diary")
        else:
            audit.record("outcomes.diary.viewed", obj=patient, details={"channel": "portal"})
        overview = display.patient_overview(patient, chart_width=480, chart_height=300)
        nrs = inst.get_instrument("nrs_pain")
        items = []
        for item_id in ("now", "average"):
            item = nrs.item(item_id)
            anchors = {a.value: getattr(a.label, language) for a in item.anchors}
            items.append({"name": f"nrs_pain__{item_id}", "text": getattr(item.text, language),
                          "options": [(v, str(v)) for v in range(0, 11)], "low": anchors.get(0, ""), "high": anchors.get(10, ""),
                          "optional": item_id == "average", "value": request.POST.get(f"nrs_pain__{item_id}", "")})
        entries = [m for m in overview["measurements"] if m.time_point == TimePoint.DIARY][:10]
        return render(request, "outcomes/diary.html", {"items": items, "errors": errors, "chart": overview["chart"],
                                                       "entries": entries, "lang": language, "patient": patient},
                      status=422 if errors else 200)
