"""The visit pages through the Django test client: the form round trip, htmx partials, output documents."""

from __future__ import annotations

import io
import json

import pytest

from triggerpoint.assessment import (
    documents,
    exam_findings,
    visit_amendments,
    visit_drafting,
    visit_reads,
    visit_signing,
)
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.tests.factories import ACTIVE_UPPER_TRAPEZIUS, draft_visit, ready_visit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.screening.tests.readability import (  # one offline reading-grade helper
    MAX_GRADE,
    reading_grade,
)

pytestmark = pytest.mark.django_db


def _url(visit, suffix=""):
    return f"/assessments/patients/{visit.patient.public_id}/{visit.public_id}/{suffix}"


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_visit_page_shows_every_section(login_as, physician, patient):
    visit = draft_visit(physician, patient, pain_drawing={"neck-side-r": 7, "temple-r": 5})
    response = login_as(physician).get(_url(visit))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ('id="history"', 'id="scores"', 'id="drawing"', 'id="exam"', 'id="fibro"', 'id="diagnoses"',
                    'id="plan"', 'id="sign"', "data-bodymap", "Save and sign"):
        assert section in html
    # the atlas suggestions for the saved drawing are already beside the exam form
    assert 'data-examine-muscle="upper_trapezius" data-examine-side="right"' in html
    assert AuditEvent.objects.filter(action="assessment.visit.viewed", patient=patient).exists()


def test_a_nurse_sees_no_sign_button(login_as, nurse, patient):
    visit = draft_visit(nurse, patient)
    html = login_as(nurse).get(_url(visit)).content.decode()
    assert "Save and sign" not in html and "A physician signs the visit" in html


def test_saving_the_form_stores_coded_history_scores_and_plan(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        exam_findings.record_exam_finding(physician, visit, ACTIVE_UPPER_TRAPEZIUS)
    client = login_as(physician)
    response = client.post(
        _url(visit, "save/"),
        {
            "version": visit.version,
            "visit_date": "2026-11-20",
            "onset_date": "2026-06-01",
            "cause": ["poor_posture", "other"],
            "cause_detail_other": "new standing desk",
            "prior": ["massage"],
            "prior_outcome_massage": "helped",
            "pain_drawing": json.dumps([{"zone": "neck-side-r", "intensity": 7}]),
            "nrs_average": "6",
            "peg_pain": "6", "peg_enjoyment": "5", "peg_activity": "7",
            "planned_site": ["upper_trapezius:right"],
            "inj_drug_1": "lidocaine", "inj_conc_1": "1%", "inj_vol_1": "2",
            "adjunct": ["home_stretching"],
            "goals": "Turn my head when driving",
            "follow_up_interval": "6_weeks",
            "action": "save",
        },
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.causes == [{"id": "poor_posture", "detail": ""}, {"id": "other", "detail": "new standing desk"}]
    assert visit.prior_treatments == [{"id": "massage", "outcome": "helped", "detail": ""}]
    assert visit.pain_drawing == {"neck-side-r": 7}
    assert float(visit.peg_score) == 6.0
    assert visit.planned_sites == [{"muscle": "upper_trapezius", "side": "right"}]
    assert visit.planned_injectate == [{"drug": "lidocaine", "concentration": "1%", "volume_ml": 2.0}]


def test_a_refused_save_shows_every_problem_and_keeps_what_was_typed(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    response = login_as(physician).post(
        _url(visit, "save/"),
        {"version": visit.version, "visit_date": "2026-11-20", "onset_date": "2027-02-01",
         "goals": "keep this text", "cause": ["other"], "action": "save"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "onset_date 2027-02-01 is after the visit date" in html
    assert "needs a short description" in html
    assert "keep this text" in html
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_a_stale_form_is_refused_not_overwritten(login_as, physician, nurse, patient):
    visit = draft_visit(physician, patient)
    version_on_the_physicians_screen = visit.version
    with acting_as(nurse):
        visit_drafting.save_visit_draft(nurse, Visit.objects.get(pk=visit.pk), visit.version, {"goals": "nurse's words"})
    response = login_as(physician).post(
        _url(visit, "save/"), {"version": version_on_the_physicians_screen, "visit_date": "2026-11-20", "goals": "mine", "action": "save"}
    )
    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).goals == "nurse's words"


def test_save_and_sign_signs_in_one_step_and_opens_the_summary(login_as, physician, patient):
    visit = ready_visit(physician, patient)
    response = login_as(physician).post(
        _url(visit, "save/"),
        {"version": visit.version, "visit_date": "2026-11-20", "nrs_average": "5",
         "planned_site": ["upper_trapezius:right"], "action": "sign"},
    )
    assert response.status_code == 302 and response["Location"].endswith("/summary/")
    assert Visit.objects.get(pk=visit.pk).status == "signed"


def test_a_signed_visit_page_redirects_to_the_summary_and_refuses_a_save(login_as, physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_signing.sign_visit(physician, visit, visit.version)
    client = login_as(physician)
    assert client.get(_url(visit))["Location"].endswith("/summary/")
    response = client.post(_url(visit, "save/"), {"version": visit.version + 1, "visit_date": "2026-11-20", "goals": "x"})
    assert response.status_code == 302
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_the_exam_partial_classifies_and_preselects_an_active_trigger_point_for_the_plan(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    response = login_as(physician).post(
        _url(visit, "exam/"),
        {"exam_muscle": "upper_trapezius", "exam_side": "right", "exam_taut_band": "on", "exam_tender_spot": "on",
         "exam_recognised_pain": "on", "exam_spontaneous_pain": "on"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Active trigger point" in html and "ASM-TRP-CLASSIFY v2" in html
    assert 'id="plan-sites" hx-swap-oob' in html
    assert 'value="upper_trapezius:right" checked' in html
    assert response["HX-Trigger"] == "exam-recorded"


def test_a_recognised_twitching_point_without_the_spontaneous_pain_tick_is_preselected(login_as, physician, patient):
    """ASM-TRP-CLASSIFY v2: recognition alone makes the point active, so it joins the plan."""
    visit = draft_visit(physician, patient)
    response = login_as(physician).post(
        _url(visit, "exam/"),
        {"exam_muscle": "upper_trapezius", "exam_side": "left", "exam_taut_band": "on", "exam_tender_spot": "on",
         "exam_recognised_pain": "on", "exam_local_twitch_response": "on"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Active trigger point" in html
    assert 'value="upper_trapezius:left" checked' in html


def test_the_exam_partial_lists_problems_without_recording(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    html = login_as(physician).post(_url(visit, "exam/"), {"exam_muscle": "", "exam_side": ""}).content.decode()
    assert "Finding not recorded" in html and "unknown muscle" in html and "side must be one of" in html
    assert not visit.exam_findings.exists()


def test_the_suggestions_follow_the_drawing(login_as, physician, patient):
    from triggerpoint.atlas.catalog import load_atlas
    from triggerpoint.atlas.suggest import suggest

    visit = draft_visit(physician, patient)
    zones = {"low-back-l": 8, "buttock-upper-l": 6}
    drawing = json.dumps([{"zone": z, "intensity": i} for z, i in zones.items()])
    html = login_as(physician).post(_url(visit, "suggestions/"), {"pain_drawing": drawing}).content.decode()
    for candidate in suggest(zones, load_atlas(), limit=8):
        assert f'data-examine-muscle="{candidate.muscle}" data-examine-side="{candidate.side}"' in html
    assert "upper_trapezius" not in html
    assert 'id="referred-zones" hx-swap-oob' in html and 'value="low-back-l"' in html


def test_the_code_picker_finds_codes_and_refuses_a_category_header(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    client = login_as(physician)
    found = client.get(_url(visit, "diagnoses/search/"), {"dx_q": "myalgia neck"}).content.decode()
    assert "M79.12" in found
    refused = client.post(_url(visit, "diagnoses/"), {"code": "M79.1"}).content.decode()
    assert "Code not added" in refused and "category header" in refused
    added = client.post(_url(visit, "diagnoses/"), {"code": "M79.12"})
    assert "Primary" in added.content.decode() and added["HX-Trigger"] == "diagnosis-changed"


def test_the_fibromyalgia_check_shows_the_different_condition_message_when_met(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    areas = ["neck", "upper_back", "lower_back", "shoulder_girdle_left", "shoulder_girdle_right", "hip_left",
             "hip_right", "upper_leg_left"]
    html = login_as(physician).post(
        _url(visit, "fibromyalgia/"),
        {"fm_area": areas, "fm_fatigue": "2", "fm_waking_unrefreshed": "2", "fm_cognitive_symptoms": "1",
         "fm_headaches": "yes", "fm_lower_abdominal_pain_or_cramps": "no", "fm_depression": "no",
         "fm_symptom_months": "6"},
    ).content.decode()
    assert "Fibromyalgia criteria met" in html
    assert "different condition from myofascial trigger points" in html
    assert "aimed only at trigger points" in html


@pytest.fixture
def signed_visit(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_drafting.save_visit_draft(physician, visit, visit.version, {"goals": "Turn my head when driving",
                                                                     "adjuncts": ["home_stretching"],
                                                                     "follow_up_interval": "6_weeks"})
        visit.refresh_from_db()
        visit = visit_signing.sign_visit(physician, visit, visit.version)
        visit_amendments.amend_visit(physician, visit, "Worst pain corrected", {"nrs_worst": 9})
    return visit


def test_the_summary_shows_the_record_signature_and_amendments(login_as, physician, signed_visit):
    html = login_as(physician).get(_url(signed_visit, "summary/")).content.decode()
    assert "Signed by" in html and "M79.12" in html and "Upper trapezius, right" in html
    assert "Worst pain corrected" in html and "nrs worst" in html
    assert "Amend" in html and "Continue editing" not in html


def test_the_chart_pdf_holds_the_record(physician, signed_visit):
    pdf = documents.chart_pdf(physician, signed_visit)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    for expected in ("Assessment visit", "A-0001", "M79.12", "Upper trapezius, right", "Active trigger point",
                     "ASM-TRP-CLASSIFY", "Worst pain corrected"):
        assert expected in text, expected
    assert "<svg" in documents.chart_html(physician, signed_visit)  # the pain drawing is drawn, not just listed


def test_the_patient_pdf_is_plain_language(signed_visit):
    pdf = documents.patient_pdf(signed_visit)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert "trigger point" in text and "Turn my head when driving" in text
    assert "ASM-TRP" not in text and "LCD" not in text


def test_the_patient_version_reads_at_a_plain_language_level(login_as, physician, signed_visit):
    import re

    html = login_as(physician).get(_url(signed_visit, "for-patient/")).content.decode()
    article = re.search(r"<article.*?</article>", html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", article)
    text = re.sub(r"\s+", " ", text)
    # Clinic sentences only: muscle names and codes are proper nouns the patient needs anyway.
    grade = reading_grade(text)
    assert grade <= MAX_GRADE, f"patient version reads at grade {grade}"


def test_the_fibromyalgia_note_reaches_the_patient_version_when_met(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_drafting.save_visit_draft(
            physician, visit, visit.version,
            {"fibromyalgia_inputs": {
                "painful_areas": ["neck", "upper_back", "lower_back", "shoulder_girdle_left", "shoulder_girdle_right",
                                  "hip_left", "hip_right", "upper_leg_left"],
                "fatigue": 2, "waking_unrefreshed": 2, "cognitive_symptoms": 1, "headaches": True,
                "lower_abdominal_pain_or_cramps": False, "depression": False, "symptom_months": 6}},
        )
    html = documents.patient_html(Visit.objects.get(pk=visit.pk))
    assert "fibromyalgia" in html and "only treat the knots" in html


def test_an_amendment_through_the_page(login_as, physician, signed_visit):
    client = login_as(physician)
    form = client.get(_url(signed_visit, "amend/"))
    assert form.status_code == 200
    refused = client.post(_url(signed_visit, "amend/"), {"reason": "", "goals": "Drive again"})
    assert refused.status_code == 422 and "say why" in refused.content.decode()
    done = client.post(
        _url(signed_visit, "amend/"),
        {"reason": "Patient reworded goal", "goals": "Drive to work again", "diagnosis_codes": "M79.12\nM54.2"},
    )
    assert done.status_code == 302
    current = visit_reads.current_record(Visit.objects.get(pk=signed_visit.pk))
    assert current["goals"] == "Drive to work again"
    assert [d["code"] for d in current["diagnoses"]] == ["M79.12", "M54.2"]
