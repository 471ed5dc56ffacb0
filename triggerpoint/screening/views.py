"""Screening pages: the clinician's screening and consent, the patient's questionnaire and instructions.

Views are thin: they find the record through the access policy, hand the form's data to a
named service, and render. Three doors lead to a screening: staff (signed in, second
factor), the patient's portal, and a tokenised link that opens one screening's
questionnaire without a login until it expires.

The patient's pages (questionnaire, thank-you, preparation page and PDF) are in the
language the patient's record prefers (English or Spanish; see ``wording.py``); the staff
pages are English.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import patient_required, staff_required
from triggerpoint.accounts.policy import (
    can,
    get_record_for_user,
    require,
    scope_to_user,
)
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications.services import LinkInvalid
from triggerpoint.patients.language import link_page_language
from triggerpoint.patients.selectors import get_patient_for_user
from triggerpoint.screening import history, services
from triggerpoint.screening.display import SEVERITY_WORDS, answer_lines, plan_summary
from triggerpoint.screening.facts import policy_for
from triggerpoint.screening.forms import (
    ConsentSignForm,
    OverrideForm,
    PlanForm,
    QuestionnaireForm,
    ReviewForm,
    SendLinkForm,
    StaffQuestionnaireForm,
)
from triggerpoint.screening.models import BLOCKING_STATUSES, Consent, ScreeningRecord
from triggerpoint.screening.pdf import pdf_response
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.wording import language_of, page_words, phone_link, strong

ANSWER_SOURCE_LABELS = {"staff": "recorded by staff", "patient_link": "patient, by link", "portal": "patient, in the portal"}


# ------------------------------------------------------------------ lookups through the policy
def _staff_screening(request, patient_id, screening_id, action: str) -> ScreeningRecord:
    patient = get_patient_for_user(request.user, patient_id, action)
    screening = get_object_or_404(
        ScreeningRecord.objects.select_related("patient", "clinic", "reviewed_by", "overridden_by"),
        public_id=screening_id,
        patient=patient,
    )
    require(request.user, action, screening)
    return screening


def _consent_of(screening: ScreeningRecord, consent_id) -> Consent:
    return get_object_or_404(Consent, public_id=consent_id, screening=screening)


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
    screenings = list(ScreeningRecord.objects.filter(patient=patient))
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
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.create_screening(
                request.user, patient, form.cleaned_data["planned_procedure_date"], form.plan()
            )
        except RuleInputError as exc:
            form.add_error(None, _problems(exc))
        else:
            messages.success(request, "Screening created. Record the answers or send the patient the questionnaire link.")
            return redirect(_detail_url(screening))
    return render(request, "screening/create.html", {"patient": patient, "form": form})


@staff_required("screening.view")
def detail(request, patient_id, screening_id):
    screening = _staff_screening(request, patient_id, screening_id, "screening.view")
    services.view_screening(request.user, screening)
    user = request.user
    consents = list(Consent.objects.filter(screening=screening).select_related("signed_recorded_by"))
    context = {
        "screening": screening,
        "patient": screening.patient,
        "allergies": list(screening.patient.allergies.all()),
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
    screening = _staff_screening(request, patient_id, screening_id, "screening.edit")
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
    screening = _staff_screening(request, patient_id, screening_id, "screening.edit")
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
    screening = _staff_screening(request, patient_id, screening_id, "screening.review")
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
    screening = _staff_screening(request, patient_id, screening_id, "screening.override")
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
    screening = _staff_screening(request, patient_id, screening_id, "screening.send_link")
    form = SendLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose email or text message.")
    else:
        try:
            note = services.send_questionnaire_link(request.user, screening, channel=form.cleaned_data["channel"])
        except services.ScreeningStateError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Questionnaire link queued to {note.to} (valid 7 days).")
    if not can(request.user, "screening.view", screening):
        return redirect("core:worklist")
    return redirect(_detail_url(screening))


@staff_required("screening.view")
def preparation(request, patient_id, screening_id):
    screening = _staff_screening(request, patient_id, screening_id, "screening.view")
    audit.record("screening.preparation.viewed", obj=screening, details={"channel": "ui"})
    return render(request, "screening/preparation.html", _preparation_context(screening, pdf_url=reverse(
        "screening:preparation_pdf", args=[screening.patient.public_id, screening.public_id])))


@staff_required("screening.view")
def preparation_pdf(request, patient_id, screening_id):
    screening = _staff_screening(request, patient_id, screening_id, "screening.view")
    audit.record("screening.preparation.printed", obj=screening, details={"channel": "ui"})
    return _preparation_pdf(screening)  # the handout the patient takes home: in the patient's language


# ------------------------------------------------------------------ consent (staff; tablet or desk)
@staff_required("consent.sign")
@require_POST
def consent_generate(request, patient_id, screening_id):
    screening = _staff_screening(request, patient_id, screening_id, "consent.sign")
    consent = services.generate_consent(request.user, screening)
    return redirect("screening:consent", screening.patient.public_id, screening.public_id, consent.public_id)


@staff_required("consent.view")
@require_http_methods(["GET", "POST"])
def consent(request, patient_id, screening_id, consent_id):
    screening = _staff_screening(request, patient_id, screening_id, "consent.view")
    consent = _consent_of(screening, consent_id)
    form = None
    if request.method == "POST":
        require(request.user, "consent.sign", consent)
        form = ConsentSignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.sign_consent(
                    request.user,
                    consent,
                    signer_name=data["signer_name"],
                    signer_relationship=data["signer_relationship"],
                    signature_kind=data["signature_kind"],
                    signature_image=data["signature_image"],
                    acknowledged=data["acknowledged"],
                    witness_name=data["witness_name"],
                    expected_version=data["version"],
                )
            except RuleInputError as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
            except (StaleVersion, ImmutableRecord) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Consent signed and stored. It can no longer be changed.")
                return redirect("screening:consent", screening.patient.public_id, screening.public_id, consent.public_id)
    else:
        services.view_consent(request.user, consent)
    if form is None and not consent.is_signed:
        form = ConsentSignForm(initial={"version": consent.version, "signer_name": screening.patient.full_name})
    return render(
        request,
        "screening/consent.html",
        {
            "screening": screening,
            "patient": screening.patient,
            **_consent_context(consent),
            "form": form,
            "can_sign": can(request.user, "consent.sign", consent),
        },
    )


@staff_required("consent.view")
def consent_pdf(request, patient_id, screening_id, consent_id):
    screening = _staff_screening(request, patient_id, screening_id, "consent.view")
    consent = _consent_of(screening, consent_id)
    audit.record("screening.consent.printed", obj=consent, details={"channel": "ui"})
    return pdf_response("screening/consent_pdf.html", _consent_context(consent), "consent.pdf")


def _consent_spanish_words(consent: Consent) -> dict:
    """For a Spanish consent: its labels (data/consent_es.yaml) and the muscle lines ("Trapecio superior,
    lado izquierdo"); nothing for an English one, whose words stay in the template unchanged."""
    document = consent.document or {}
    if document.get("language") != "es":
        return {}
    from triggerpoint.screening.content import load_consent_es

    words = load_consent_es()
    labels = dict(words.labels)
    labels["title"] = labels["title"].format(procedure=str(document.get("procedure", "")).lower())
    labels["version_line"] = labels["version"].format(version=consent.document_version)
    sites = [
        f"{site['muscle_name']}, " + labels["side"].format(side=words.sides.get(site["side"], site["side"]))
        for site in document.get("sites", [])
    ]
    return {"es": labels, "es_sites": sites}


def _consent_context(consent: Consent) -> dict:
    return {
        **_consent_spanish_words(consent),
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


def _preparation_context(screening: ScreeningRecord, language: str = "en", *, pdf: bool = False, **extra) -> dict:
    patient, clinic = screening.patient, screening.clinic
    procedure_day = patient_date(screening.planned_procedure_date, language)
    return {
        "screening": screening,
        "patient": patient,
        "clinic": clinic,
        "language": language,
        "procedure_day": procedure_day,
        "instructions": services.preparation_for(screening, language),
        "plan": plan_summary(screening.plan),
        "words": page_words(
            "preparation",
            language,
            name=strong(patient.full_name) if pdf else patient.given_name,
            clinic=clinic.name,
            day=strong(procedure_day),
            phone=clinic.phone if pdf else phone_link(clinic.phone),
        ),
        **extra,
    }


def _in_language(response, language: str):
    response["Content-Language"] = language
    return response


def _patient_page(request, template: str, screening: ScreeningRecord, **extra):
    """The preparation page for the patient, in their language."""
    language = language_of(screening.patient)
    with translation.override(language):
        return _in_language(render(request, template, _preparation_context(screening, language, **extra)), language)


def _preparation_pdf(screening: ScreeningRecord):
    """The printable preparation instructions, in the patient's language."""
    language = language_of(screening.patient)
    with translation.override(language):
        response = pdf_response("screening/preparation_pdf.html", _preparation_context(screening, language, pdf=True),
                                "preparation.pdf")
    return _in_language(response, language)


# ------------------------------------------------------------------ the patient's tokenised link (no login)
def _link_screening(request, token: str):
    try:
        return services.screening_for_link(token), None
    except LinkInvalid as exc:
        language = link_page_language(exc.patient)
        with translation.override(language):
            response = render(request, "link_invalid.html", {"reason": gettext(str(exc))}, status=404)
        return None, _in_language(response, language)


@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire_link(request, token):
    screening, refusal = _link_screening(request, token)
    if refusal is not None:
        return refusal
    return _questionnaire(
        request,
        screening,
        source="patient_link",
        preparation_url=reverse("screening:link_preparation", args=[token]),
        pdf_url=reverse("screening:link_preparation_pdf", args=[token]),
    )


@never_cache
def link_preparation(request, token):
    screening, refusal = _link_screening(request, token)
    if refusal is not None:
        return refusal
    audit.record("screening.preparation.viewed", obj=screening, details={"channel": "link"})
    return _patient_page(
        request,
        "screening/patient_preparation.html",
        screening,
        pdf_url=reverse("screening:link_preparation_pdf", args=[token]),
        questionnaire_url=reverse("screening:questionnaire_link", args=[token]),
    )


@never_cache
def link_preparation_pdf(request, token):
    screening, refusal = _link_screening(request, token)
    if refusal is not None:
        return refusal
    audit.record("screening.preparation.printed", obj=screening, details={"channel": "link"})
    return _preparation_pdf(screening)


def _questionnaire(request, screening: ScreeningRecord, *, source: str, preparation_url: str, pdf_url: str):
    """The patient's questionnaire, shared by the link and the portal, in the patient's language."""
    language = language_of(screening.patient)
    with translation.override(language):  # Django's own field messages ("Enter a valid date.") follow it
        return _in_language(
            _questionnaire_page(request, screening, language, source=source, preparation_url=preparation_url,
                                pdf_url=pdf_url),
            language,
        )


def _questionnaire_page(request, screening: ScreeningRecord, language: str, *, source: str, preparation_url: str,
                        pdf_url: str):
    locked = bool(screening.reviewed_at or screening.overridden_at)
    ask_pregnancy = screening.patient.sex != "male"
    form = QuestionnaireForm(
        request.POST or None,
        initial=QuestionnaireForm.initial_from(screening.answers or {}),
        screening=screening,
        ask_pregnancy=ask_pregnancy,
        policy=policy_for(screening.clinic),
        language=language,
    )
    submitted = False
    if request.method == "POST" and not locked and form.is_valid():
        try:
            services.record_answers(screening, form.answers, source=source, user=request.user if source == "portal" else None)
        except RuleInputError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        except services.ScreeningStateError as exc:
            form.add_error(None, str(exc))
        else:
            submitted = True
    elif request.method == "GET":
        audit.record("screening.questionnaire.opened", obj=screening, details={"channel": source})
    procedure_day = patient_date(screening.planned_procedure_date, language)
    return render(
        request,
        "screening/questionnaire.html",
        {
            "screening": screening,
            "patient": screening.patient,
            "clinic": screening.clinic,
            "form": form,
            "submitted": submitted,
            "locked": locked,
            "answered_before": bool(screening.answers_submitted_at),
            "procedure_day": procedure_day,
            "preparation_url": preparation_url,
            "pdf_url": pdf_url,
            "words": page_words(
                "questionnaire",
                language,
                name=screening.patient.given_name,
                clinic=screening.clinic.name,
                day=strong(procedure_day),
                phone=phone_link(screening.clinic.phone),
            ),
        },
    )


# ------------------------------------------------------------------ the patient portal
def _portal_screening(request, screening_id, action: str = "screening.answer") -> ScreeningRecord:
    user = request.user
    screening = get_record_for_user(user, ScreeningRecord, screening_id, action)
    if screening.patient_id != user.portal_patient.pk:  # the policy checked it; this keeps it explicit
        raise PermissionDenied
    return screening


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_questionnaire(request, screening_id):
    screening = _portal_screening(request, screening_id)
    return _questionnaire(
        request,
        screening,
        source="portal",
        preparation_url=reverse("screening:portal_preparation", args=[screening.public_id]),
        pdf_url=reverse("screening:portal_preparation_pdf", args=[screening.public_id]),
    )


@patient_required
def portal_preparation(request, screening_id):
    screening = _portal_screening(request, screening_id)
    audit.record("screening.preparation.viewed", obj=screening, details={"channel": "portal"})
    return _patient_page(
        request,
        "screening/patient_preparation.html",
        screening,
        pdf_url=reverse("screening:portal_preparation_pdf", args=[screening.public_id]),
        questionnaire_url=reverse("screening:portal_questionnaire", args=[screening.public_id]),
    )


@patient_required
def portal_preparation_pdf(request, screening_id):
    screening = _portal_screening(request, screening_id)
    audit.record("screening.preparation.printed", obj=screening, details={"channel": "portal"})
    return _preparation_pdf(screening)


@patient_required
def portal_consent_pdf(request, screening_id, consent_id):
    screening = _portal_screening(request, screening_id, "consent.view")
    consent = get_object_or_404(Consent, public_id=consent_id, screening=screening, signed_at__isnull=False)
    require(request.user, "consent.view", consent)
    audit.record("screening.consent.printed", obj=consent, details={"channel": "portal"})
    return pdf_response("screening/consent_pdf.html", _consent_context(consent), "consent.pdf")

