"""Consent pages: staff generate, sign (tablet or desk) and print a consent; the patient prints a signed one.

Apart from the screening pages (``views``) because a consent is its own record with its own
permissions (``consent.view`` / ``consent.sign``) and its own Spanish wording
(``data/consent_es.yaml``). The staff lookup comes from ``views`` and the portal's from
``patient_views``; neither imports this module.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import patient_required, staff_required
from triggerpoint.accounts.policy import can, require
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening import consent_documents, consent_records
from triggerpoint.screening.forms import ConsentSignForm
from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.screening.patient_views import portal_screening
from triggerpoint.screening.pdf import pdf_response
from triggerpoint.screening.views import staff_screening


# ------------------------------------------------------------------ staff (tablet or desk)
def _consent_of(screening: ScreeningRecord, consent_id) -> Consent:
    return get_object_or_404(Consent, public_id=consent_id, screening=screening)


@staff_required("consent.sign")
@require_POST
def consent_generate(request, patient_id, screening_id):
    screening = staff_screening(request, patient_id, screening_id, "consent.sign")
    consent = consent_records.generate_consent(request.user, screening)
    return redirect("screening:consent", screening.patient.public_id, screening.public_id, consent.public_id)


@staff_required("consent.view")
@require_http_methods(["GET", "POST"])
def consent(request, patient_id, screening_id, consent_id):
    screening = staff_screening(request, patient_id, screening_id, "consent.view")
    consent = _consent_of(screening, consent_id)
    form = None
    if request.method == "POST":
        require(request.user, "consent.sign", consent)
        form = ConsentSignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                consent_records.sign_consent(
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
        consent_records.view_consent(request.user, consent)
    if form is None and not consent.is_signed:
        form = ConsentSignForm(initial={"version": consent.version, "signer_name": screening.patient.full_name})
    return render(
        request,
        "screening/consent.html",
        {
            "screening": screening,
            "patient": screening.patient,
            **consent_documents.consent_context(consent),
            "form": form,
            "can_sign": can(request.user, "consent.sign", consent),
        },
    )


@staff_required("consent.view")
def consent_pdf(request, patient_id, screening_id, consent_id):
    screening = staff_screening(request, patient_id, screening_id, "consent.view")
    consent = _consent_of(screening, consent_id)
    audit.record("screening.consent.printed", obj=consent, details={"channel": "ui"})
    return pdf_response("screening/consent_pdf.html", consent_documents.consent_context(consent), "consent.pdf")


# ------------------------------------------------------------------ the patient portal
@patient_required
def portal_consent_pdf(request, screening_id, consent_id):
    screening = portal_screening(request, screening_id, "consent.view")
    consent = get_object_or_404(Consent, public_id=consent_id, screening=screening, signed_at__isnull=False)
    require(request.user, "consent.view", consent)
    audit.record("screening.consent.printed", obj=consent, details={"channel": "portal"})
    return pdf_response("screening/consent_pdf.html", consent_documents.consent_context(consent), "consent.pdf")
