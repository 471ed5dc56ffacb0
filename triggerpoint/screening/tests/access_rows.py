"""The screening app's rows of the role × action matrix (accounts/tests/test_access_matrix.py).

Each state-changing row gets its own record, so the order in which the matrix runs the
rows cannot turn an allowed request into a stale or already-done one.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

P, N, F = "physician", "nurse", "front_desk"
CLINICAL = {P, N}
EVERYONE = {"physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous"}

PLAN = {
    "sites": [{"muscle": "quadratus_lumborum", "side": "left"}],
    "injectates": [{"drug": "lidocaine"}],
    "guidance": "landmark",
    "technique": "injection",
}


def _answers(**today):
    return {
        "events": [],
        "today": {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False,
                  "temperature": {"value": 98.2, "unit": "F"}, **today},
        "pregnant": "no",
        "prior_vasovagal": False,
    }


def _screening(patient, answers=None):
    from triggerpoint.screening import services
    from triggerpoint.screening.models import ScreeningRecord

    screening = ScreeningRecord.objects.create(
        clinic=patient.clinic,
        patient=patient,
        planned_procedure_date=timezone.localdate() + timedelta(days=3),
        plan=dict(PLAN),
        answers=answers or {},
        answers_source="staff" if answers else "",
        answers_submitted_at=timezone.now() if answers else None,
    )
    if answers:
        screening = services.evaluate_screening(screening)
    return screening


def _consent(screening, *, signed: bool):
    from triggerpoint.screening import consent_records
    from triggerpoint.screening.models import Consent

    document = consent_records.consent_document_for(screening)
    extra = {}
    if signed:
        extra = dict(signer_name=screening.patient.full_name, signature_kind="checkbox", signed_at=timezone.now(),
                     witness_name="Witness")
    return Consent.objects.create(
        clinic=screening.clinic,
        patient=screening.patient,
        screening=screening,
        document=consent_records._document_dict(document),
        document_text=consent_records.consent_text(document, screening.patient),
        document_version=f"consent-risks-v{document.version}",
        **extra,
    )


def rows(patient):
    from triggerpoint.notifications.services import issue_link
    from triggerpoint.screening.questionnaire_link import QUESTIONNAIRE_PURPOSE

    viewed = _screening(patient, _answers())
    for_evaluate = _screening(patient, _answers())
    for_review = _screening(patient, _answers())
    for_override = _screening(patient, _answers(on_antibiotics=True))
    for_answers = _screening(patient)
    for_api_evaluate = _screening(patient, _answers())
    for_api_review = _screening(patient, _answers())
    for_api_override = _screening(patient, _answers(feels_unwell=True))
    for_link = _screening(patient)
    unsigned = _consent(viewed, signed=False)
    unsigned_api = _consent(for_api_evaluate, signed=False)
    signed = _consent(for_evaluate, signed=True)
    _link, token = issue_link(patient, QUESTIONNAIRE_PURPOSE, for_link, timedelta(days=7))

    pid = patient.public_id
    page = f"/screening/patient/{pid}/"
    one = f"{page}{viewed.public_id}/"
    api = f"/api/v1/screening/patients/{pid}/screenings"
    portal = f"/screening/portal/{viewed.public_id}/"
    return [
        # clinician pages
        ("screening:index", "get", "/screening/", None, CLINICAL, {200}),
        ("screening:patient_screenings", "get", page, None, CLINICAL, {200}),
        ("screening:create", "get", f"{page}new/", None, CLINICAL, {200}),
        ("screening:detail", "get", one, None, CLINICAL, {200}),
        ("screening:answers", "get", f"{one}answers/", None, CLINICAL, {200}),
        ("screening:evaluate", "post", f"{page}{for_evaluate.public_id}/evaluate/", {}, CLINICAL, {302}),
        ("screening:review", "post", f"{page}{for_review.public_id}/review/", {"version": for_review.version}, {P}, {302}),
        ("screening:override", "post", f"{page}{for_override.public_id}/override/",
         {"version": for_override.version, "reason": "Reviewed in person; proceeding is safe."}, {P}, {302}),
        ("screening:send_link", "post", f"{one}send-link/", {"channel": "email"}, {P, N, F}, {302}),
        ("screening:preparation", "get", f"{one}preparation/", None, CLINICAL, {200}),
        ("screening:preparation_pdf", "get", f"{one}preparation.pdf", None, CLINICAL, {200}),
        ("screening:consent_generate", "post", f"{one}consent/new/", {}, CLINICAL, {302}),
        ("screening:consent", "get", f"{one}consent/{unsigned.public_id}/", None, CLINICAL, {200}),
        ("screening:consent_pdf", "get", f"{page}{for_evaluate.public_id}/consent/{signed.public_id}/print.pdf", None,
         CLINICAL, {200}),
        # the patient's link: the token is the key, whoever holds it (no login)
        ("screening:questionnaire_link", "get", f"/screening/q/{token}/", None, EVERYONE, {200}),
        ("screening:link_preparation", "get", f"/screening/q/{token}/preparation/", None, EVERYONE, {200}),
        ("screening:link_preparation_pdf", "get", f"/screening/q/{token}/preparation.pdf", None, EVERYONE, {200}),
        # the portal
        ("screening:portal_questionnaire", "get", portal, None, {"portal_patient"}, {200}),
        ("screening:portal_preparation", "get", f"{portal}preparation/", None, {"portal_patient"}, {200}),
        ("screening:portal_preparation_pdf", "get", f"{portal}preparation.pdf", None, {"portal_patient"}, {200}),
        ("screening:portal_consent_pdf", "get",
         f"/screening/portal/{for_evaluate.public_id}/consent/{signed.public_id}.pdf", None, {"portal_patient"}, {200}),
        # API
        ("api:screening_evaluate", "post", "/api/v1/screening/evaluate",
         {"procedure_date": (timezone.localdate() + timedelta(days=30)).isoformat(), "patient": {"age": 40, "sex": "male", "weight_kg": 80, "pregnant": False,
          "allergies": [], "medications": [], "conditions": [], "high_bleeding_risk": False,
          "allergy_status": "nkda"}, "events": [],
          "today": {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False}, "plan": PLAN},
         CLINICAL, {200}),
        ("api:list_screenings", "get", api, None, CLINICAL, {200}),
        ("api:create_screening", "post", api, {"planned_procedure_date": (timezone.localdate() + timedelta(days=30)).isoformat(), "plan": PLAN}, CLINICAL, {201}),
        ("api:read_screening", "get", f"{api}/{viewed.public_id}", None, CLINICAL, {200}),
        ("api:record_answers", "put", f"{api}/{for_answers.public_id}/answers",
         {"version": for_answers.version, "answers": _answers()}, CLINICAL, {200}),
        ("api:evaluate_screening", "post", f"{api}/{for_api_evaluate.public_id}/evaluate", None, CLINICAL, {200}),
        ("api:review_screening", "post", f"{api}/{for_api_review.public_id}/review", {"version": for_api_review.version},
         {P}, {200}),
        ("api:override_screening", "post", f"{api}/{for_api_override.public_id}/override",
         {"version": for_api_override.version, "reason": "Chronic stable symptom; examined today."}, {P}, {200}),
        ("api:send_questionnaire_link", "post", f"{api}/{viewed.public_id}/send-link", {"channel": "email"},
         {P, N, F}, {202}),
        ("api:generate_consent", "post", f"{api}/{viewed.public_id}/consents", None, CLINICAL, {201}),
        ("api:read_consent", "get", f"{api}/{for_evaluate.public_id}/consents/{signed.public_id}", None,
         CLINICAL | {"portal_patient"}, {200}),
        ("api:sign_consent", "post", f"{api}/{for_api_evaluate.public_id}/consents/{unsigned_api.public_id}/sign",
         {"version": unsigned_api.version, "signer_name": "Pat Portalowner", "signature_kind": "checkbox",
          "acknowledged": True}, CLINICAL, {200}),
    ]
