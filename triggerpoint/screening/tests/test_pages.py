"""Screening pages: the clinician's findings with their basis, sign-off, consent and PDFs; portal; worklist; timeline."""

from __future__ import annotations

import io
import re

from django.utils import timezone
from pypdf import PdfReader

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.screening import consent_records, services
from triggerpoint.screening.models import Consent, ScreeningRecord

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle=|<style", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)


def _url(screening, suffix=""):
    return f"/screening/patient/{screening.patient.public_id}/{screening.public_id}/{suffix}"


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _assert_csp_clean(html: str):
    assert not INLINE_SCRIPT.search(html), "inline <script>"
    assert not INLINE_STYLE.search(html), "inline style"
    assert not INLINE_HANDLER.search(html), "inline on* handler"


def test_the_screening_page_shows_each_finding_with_severity_message_and_basis(login_as, physician, nurse, answered):
    with acting_as(nurse):
        services.record_answers(answered, {"today": {"on_antibiotics": True}}, source="staff", user=nurse)
    response = login_as(physician).get(_url(answered))
    html = response.content.decode()
    assert response.status_code == 200
    _assert_csp_clean(html)
    assert 'class="pill sev-defer"' in html
    assert "On antibiotics today: defer until the course is finished" in html
    assert re.search(r"<details class=\"basis\"><summary>Basis · <span class=\"mono\">SCR-ANTIBIOTICS-TODAY v1</span>", html)
    assert "The clinic asks patients to be off all antibiotics" in html
    assert "Procedure blocked" in html and "Override and proceed anyway" in html
    assert AuditEvent.objects.filter(action="screening.screening.viewed", actor=physician).exists()


def test_missing_facts_are_listed_with_what_to_do(login_as, nurse, screening):
    services.evaluate_screening(screening)
    html = login_as(nurse).get(_url(screening)).content.decode()
    assert "Not evaluated: facts are missing." in html
    assert "The questionnaire has not been answered yet." in html


def test_a_nurse_sees_no_sign_off_or_override_controls(login_as, nurse, answered):
    html = login_as(nurse).get(_url(answered)).content.decode()
    assert "Review and sign off" not in html and "Record override" not in html


def test_the_physician_signs_off_from_the_page(login_as, physician, answered):
    client = login_as(physician)
    response = client.post(_url(answered, "review/"), {"version": answered.version, "note": "Looks fine."})
    assert response.status_code == 302
    answered.refresh_from_db()
    assert answered.reviewed_by == physician and answered.review_note == "Looks fine."
    assert "Reviewed and signed off" in client.get(_url(answered)).content.decode()


def test_the_override_form_refuses_a_short_reason_and_records_a_real_one(login_as, physician, nurse, answered):
    with acting_as(nurse):
        deferred = services.record_answers(answered, {"today": {"feels_unwell": True}}, source="staff", user=nurse)
    client = login_as(physician)
    client.post(_url(deferred, "override/"), {"version": deferred.version, "reason": "fine"})
    deferred.refresh_from_db()
    assert deferred.overridden_at is None
    client.post(_url(deferred, "override/"), {"version": deferred.version, "reason": "Tired from a night shift; afebrile."})
    deferred.refresh_from_db()
    assert deferred.override_reason == "Tired from a night shift; afebrile."
    html = client.get(_url(deferred)).content.decode()
    assert "Procedure may proceed" in html and "Tired from a night shift" in html


def test_staff_create_a_screening_from_the_plan_form(login_as, nurse, patient, procedure_day):
    client = login_as(nurse)
    form = {"planned_procedure_date": procedure_day.isoformat(), "site_0_muscle": "upper_trapezius", "site_0_side": "left",
            "site_1_muscle": "upper_trapezius", "site_1_side": "right", "injectates": ["lidocaine"],
            "guidance": "ultrasound", "technique": "injection", "trigger_points_documented": "on"}
    response = client.post(f"/screening/patient/{patient.public_id}/new/", form)
    assert response.status_code == 302
    screening = ScreeningRecord.objects.get()
    assert screening.plan["sites"] == [{"muscle": "upper_trapezius", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}]
    assert screening.plan["trigger_points_documented"] is True
    half_row = client.post(f"/screening/patient/{patient.public_id}/new/", form | {"site_2_muscle": "rhomboids"})
    assert "plan.sites[2].side is required" in half_row.content.decode()


def test_staff_record_day_of_answers_with_a_temperature_in_celsius(login_as, nurse, screening):
    form = {"recent_fever": "no", "recent_antibiotics": "no", "recent_illness": "no", "recent_hospital": "no",
            "feels_unwell": "no", "on_antibiotics": "no", "infection_at_site": "no", "pregnant": "no",
            "prior_vasovagal": "no", "temperature_value": "38.0", "temperature_unit": "C"}
    response = login_as(nurse).post(_url(screening, "answers/"), form)
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.status == "defer"
    assert screening.answers["today"]["temperature"] == {"value": 38, "unit": "C"}


def test_the_consent_page_generates_signs_with_a_checkbox_and_prints(login_as, nurse, answered):
    client = login_as(nurse)
    response = client.post(_url(answered, "consent/new/"))
    consent = Consent.objects.get()
    assert response["Location"].endswith(f"/consent/{consent.public_id}/")
    page = client.get(response["Location"]).content.decode()
    _assert_csp_clean(page)
    assert "<canvas" in page and "screening/signature.js" in page
    signed = client.post(response["Location"], {"version": consent.version, "signer_name": "Pat Portalowner",
                                                "signer_relationship": "self", "signature_kind": "checkbox",
                                                "acknowledged": "on", "witness_name": "Nina Nurse"})
    assert signed.status_code == 302
    consent.refresh_from_db()
    assert consent.is_signed and consent.witness_name == "Nina Nurse"
    after = client.get(response["Location"]).content.decode()
    assert "Sign consent" not in after and "stored unchanged" in after
    pdf = client.get(_url(answered, f"consent/{consent.public_id}/print.pdf"))
    text = _pdf_text(pdf.content)
    assert "Pat Portalowner" in text and "Nina Nurse" in text and "Infection" in text


def test_the_preparation_pdf_is_plain_and_personal(login_as, nurse, answered):
    response = login_as(nurse).get(_url(answered, "preparation.pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(_pdf_text(response.content).split())
    assert "Getting ready for your visit" in text and answered.patient.full_name in text
    assert "antibiotics" in text


def test_the_portal_patient_answers_their_own_screening_and_not_anyone_elses(
    client, screening, other_patient, physician, procedure_day, lumbar_plan
):
    with acting_as(physician):
        theirs = services.create_screening(physician, other_patient, procedure_day, lumbar_plan)
    client.force_login(screening.patient.portal_user)
    portal = client.get("/portal/").content.decode()
    assert f"/screening/portal/{screening.public_id}/" in portal and "Answer the health questions" in portal
    assert client.get(f"/screening/portal/{theirs.public_id}/").status_code == 404
    form = {"recent_fever": "no", "recent_antibiotics": "no", "recent_illness": "no", "recent_hospital": "no",
            "feels_unwell": "no", "on_antibiotics": "no", "infection_at_site": "no", "pregnant": "no",
            "prior_vasovagal": "no"}
    response = client.post(f"/screening/portal/{screening.public_id}/", form)
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    screening.refresh_from_db()
    assert screening.answers_source == "portal"
    assert "Change my answers" in client.get("/portal/").content.decode()


def test_the_questionnaire_page_is_csp_clean_and_skips_the_pregnancy_question_for_men(client, screening, other_patient,
                                                                                   physician, procedure_day, lumbar_plan):
    client.force_login(screening.patient.portal_user)
    html = client.get(f"/screening/portal/{screening.public_id}/").content.decode()
    _assert_csp_clean(html)
    assert "Are you pregnant" in html
    with acting_as(physician):
        his = services.create_screening(physician, other_patient, procedure_day, lumbar_plan)
    client.force_login(other_patient.portal_user)
    assert "Are you pregnant" not in client.get(f"/screening/portal/{his.public_id}/").content.decode()


def test_the_worklist_lists_screenings_needing_review_until_signed_off(login_as, physician, nurse, answered, front_desk):
    with acting_as(nurse):
        services.record_answers(answered, {"events": [{"type": "fever", "date": timezone.localtime(answered.created_at).date().isoformat()}]},
                                source="staff", user=nurse)
    answered.refresh_from_db()
    assert answered.status == "review"
    client = login_as(physician)
    html = client.get("/worklist/").content.decode()
    assert "Screenings needing review" in html and _url(answered) in html
    with acting_as(physician):
        services.review_screening(physician, answered, expected_version=answered.version)
    assert _url(answered) not in client.get("/worklist/").content.decode()
    assert "Screenings needing review" not in login_as(front_desk).get("/worklist/").content.decode()


def test_the_chart_timeline_shows_the_screening_and_the_signed_consent(login_as, nurse, answered):
    with acting_as(nurse):
        consent = consent_records.generate_consent(nurse, answered)
        consent_records.sign_consent(nurse, consent, signer_name="Pat Portalowner", signature_kind="checkbox",
                              acknowledged=True, expected_version=consent.version)
    html = login_as(nurse).get(f"/patients/{answered.patient.public_id}/timeline/").content.decode()
    assert "Pre-procedure screening for" in html and "Consent signed" in html


def test_the_screening_index_lists_upcoming_screenings(login_as, nurse, answered):
    html = login_as(nurse).get("/screening/").content.decode()
    assert answered.patient.mrn in html



def test_the_patients_questions_are_written_at_a_grade_8_reading_level(screening):
    from triggerpoint.screening.forms import QuestionnaireForm
    from triggerpoint.screening.tests.readability import MAX_GRADE, reading_grade

    form = QuestionnaireForm(screening=screening)
    text = " ".join(f"{field.label} {field.help_text}" for field in form.fields.values())
    assert reading_grade(text) <= MAX_GRADE, reading_grade(text)


def test_the_screening_page_shows_nkda_or_not_recorded(client, login_as, nurse, answered):
    from triggerpoint.patients.models import Patient

    login_as(nurse)
    html = client.get(_url(answered)).content.decode()
    assert "no known drug allergies (recorded)" in html
    Patient.objects.filter(pk=answered.patient.pk).update(allergy_status="unknown")
    services.evaluate_screening(answered)
    html = client.get(_url(answered)).content.decode()
    assert "allergy status not recorded — ask the patient" in html
    assert "SCR-ALLERGY-STATUS" in html
