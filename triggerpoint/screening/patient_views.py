"""The patient's screening pages: the questionnaire and preparation instructions, by link or in the portal.

Two doors: a tokenised link that opens one screening's questionnaire without a login until
it expires, and the patient portal. Both pages are in the language the patient's record
prefers (English or Spanish; see ``wording.py``). The preparation page's context and the
printable handout live here, with the patient's pages they serve; the staff page
(``views.preparation``) uses them too, so this module imports no other screening view.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from triggerpoint.accounts.decorators import patient_required
from triggerpoint.accounts.policy import get_record_for_user
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications.services import LinkInvalid
from triggerpoint.patients.language import link_page_language
from triggerpoint.screening import services
from triggerpoint.screening.display import plan_summary
from triggerpoint.screening.facts import policy_for
from triggerpoint.screening.forms import QuestionnaireForm
from triggerpoint.screening.models import ScreeningRecord
from triggerpoint.screening.pdf import pdf_response
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.questionnaire_link import screening_for_link
from triggerpoint.screening.wording import language_of, page_words, phone_link, strong


# ------------------------------------------------------------------ the preparation page and handout
def preparation_context(screening: ScreeningRecord, language: str = "en", *, pdf: bool = False, **extra) -> dict:
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
        return _in_language(render(request, template, preparation_context(screening, language, **extra)), language)


def preparation_handout(screening: ScreeningRecord):
    """The printable preparation instructions, in the patient's language."""
    language = language_of(screening.patient)
    with translation.override(language):
        response = pdf_response("screening/preparation_pdf.html", preparation_context(screening, language, pdf=True),
                                "preparation.pdf")
    return _in_language(response, language)


# ------------------------------------------------------------------ the patient's tokenised link (no login)
def _link_screening(request, token: str):
    try:
        return screening_for_link(token), None
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
    return preparation_handout(screening)


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
def portal_screening(request, screening_id, action: str = "screening.answer") -> ScreeningRecord:
    user = request.user
    screening = get_record_for_user(user, ScreeningRecord, screening_id, action)
    if screening.patient_id != user.portal_patient.pk:  # the policy checked it; this keeps it explicit
        raise PermissionDenied
    return screening


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def portal_questionnaire(request, screening_id):
    screening = portal_screening(request, screening_id)
    return _questionnaire(
        request,
        screening,
        source="portal",
        preparation_url=reverse("screening:portal_preparation", args=[screening.public_id]),
        pdf_url=reverse("screening:portal_preparation_pdf", args=[screening.public_id]),
    )


@patient_required
def portal_preparation(request, screening_id):
    screening = portal_screening(request, screening_id)
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
    screening = portal_screening(request, screening_id)
    audit.record("screening.preparation.printed", obj=screening, details={"channel": "portal"})
    return preparation_handout(screening)
