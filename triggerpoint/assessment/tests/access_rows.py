"""The assessment routes in the role × action matrix (accounts/tests/test_access_matrix.py).

Each row gets its own visit where a successful call would change what the next row
sees (a save bumps the version, signing freezes the visit), so the rows are
independent of each other's order.
"""

from __future__ import annotations

import json

from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis

CLINICAL = {"physician", "nurse"}
PHYSICIAN = {"physician"}
CODES = {"physician", "nurse", "front_desk"}

EXAM = {
    "muscle": "upper_trapezius",
    "side": "right",
    "taut_band": True,
    "tender_spot": True,
    "recognised_pain": True,
    "spontaneous_pain": True,
    "local_twitch_response": False,
    "jump_sign": False,
    "focal_nodule": True,
    "referred_pain_zones": ["neck-side-r"],
}


def _clinician(patient):
    from triggerpoint.accounts.models import User

    user, _ = User.objects.get_or_create(username="rows.clinician", defaults={"clinic": patient.clinic})
    return user


def _visit(patient, **fields) -> Visit:
    """Rows are fixtures, written directly: the services are tested on their own."""
    defaults = {"clinic": patient.clinic, "patient": patient, "clinician": _clinician(patient), "visit_date": "2026-11-20"}
    return Visit.objects.create(**(defaults | fields))


def _finding(visit, muscle="levator_scapulae") -> ExamFinding:
    flags = {k: v for k, v in EXAM.items() if k not in ("muscle", "side", "referred_pain_zones")}
    return ExamFinding.objects.create(
        clinic=visit.clinic, visit=visit, muscle=muscle, side="left", classification="active",
        rule_id="ASM-TRP-CLASSIFY", rule_version=1, **flags,
    )


def _diagnosis(visit, code="M79.12", primary=True) -> VisitDiagnosis:
    return VisitDiagnosis.objects.create(
        clinic=visit.clinic, visit=visit, code=code, description="fixture", is_primary=primary
    )


def rows(patient):
    p = patient.public_id
    page_draft = _visit(patient, chief_complaint="page draft")
    page_finding = _finding(page_draft)
    _diagnosis(page_draft)
    second = _diagnosis(page_draft, "M54.2", primary=False)
    api_draft = _visit(patient, chief_complaint="api draft")
    api_finding = _finding(api_draft)
    api_dx = _diagnosis(api_draft, "M54.2")
    ready = _visit(patient, nrs_average=5)
    _diagnosis(ready)
    signed = _visit(patient, nrs_average=5, goals="walk")
    _diagnosis(signed)
    Visit.objects.filter(pk=signed.pk).update(status="signed", signed_by=_clinician(patient))

    page = f"/assessments/patients/{p}/{page_draft.public_id}/"
    done = f"/assessments/patients/{p}/{signed.public_id}/"
    api = f"/api/v1/assessments/patients/{p}/visits"
    api_visit = f"{api}/{api_draft.public_id}"
    return [
        ("assessment:patient_visits", "get", f"/assessments/patients/{p}/", None, CLINICAL, {200}),
        ("assessment:create", "post", f"/assessments/patients/{p}/new/", {"chief_complaint": "neck"}, CLINICAL, {302}),
        ("assessment:visit", "get", page, None, CLINICAL, {200}),
        ("assessment:save", "post", f"{page}save/",
         {"version": page_draft.version, "visit_date": "2026-11-20", "goals": "sleep", "action": "save"}, CLINICAL, {302}),
        ("assessment:autosave", "post", f"{page}autosave/",
         {"version": page_draft.version, "visit_date": "2026-11-20", "goals": "sleep"}, CLINICAL, {200}),
        ("assessment:suggestions", "post", f"{page}suggestions/",
         {"pain_drawing": json.dumps([{"zone": "neck-side-r", "intensity": 6}])}, CLINICAL, {200}),
        ("assessment:exam_add", "post", f"{page}exam/",
         {"exam_muscle": "upper_trapezius", "exam_side": "right", "exam_taut_band": "on", "exam_tender_spot": "on"},
         CLINICAL, {200}),
        ("assessment:exam_remove", "post", f"{page}exam/{page_finding.public_id}/remove/", {}, CLINICAL, {302}),
        ("assessment:diagnosis_search", "get", f"{page}diagnoses/search/?dx_q=myalgia", None, CLINICAL, {200}),
        ("assessment:diagnosis_add", "post", f"{page}diagnoses/", {"code": "G44.209"}, CLINICAL, {200}),
        ("assessment:diagnosis_primary", "post", f"{page}diagnoses/{second.public_id}/primary/", {}, CLINICAL, {200}),
        ("assessment:diagnosis_remove", "post", f"{page}diagnoses/{second.public_id}/remove/", {}, CLINICAL, {200}),
        ("assessment:fibromyalgia_check", "post", f"{page}fibromyalgia/", {"fm_fatigue": "2"}, CLINICAL, {200}),
        ("assessment:sign_check", "post", f"{page}sign-check/", {"nrs_average": "5"}, CLINICAL, {200}),
        ("assessment:summary", "get", f"{done}summary/", None, CLINICAL, {200}),
        ("assessment:summary_pdf", "get", f"{done}summary.pdf", None, CLINICAL, {200}),
        ("assessment:patient_summary", "get", f"{done}for-patient/", None, CLINICAL, {200}),
        ("assessment:patient_summary_pdf", "get", f"{done}for-patient.pdf", None, CLINICAL, {200}),
        ("assessment:amend", "get", f"{done}amend/", None, PHYSICIAN, {200}),
        ("api:assessment_visits", "get", api, None, CLINICAL, {200}),
        ("api:assessment_visits", "post", api, {"chief_complaint": "back"}, CLINICAL, {201}),
        ("api:assessment_visit", "get", f"{api}/{signed.public_id}", None, CLINICAL, {200}),
        ("api:assessment_visit", "patch", api_visit, {"version": api_draft.version, "nrs_average": 4}, CLINICAL, {200}),
        ("api:assessment_exam_findings", "post", f"{api_visit}/exam-findings", EXAM, CLINICAL, {201}),
        ("api:assessment_exam_finding", "delete", f"{api_visit}/exam-findings/{api_finding.public_id}", None,
         CLINICAL, {204}),
        ("api:assessment_diagnoses", "post", f"{api_visit}/diagnoses", {"code": "M79.18"}, CLINICAL, {201}),
        ("api:assessment_diagnosis", "delete", f"{api_visit}/diagnoses/{api_dx.public_id}", None, CLINICAL, {204}),
        ("api:assessment_sign", "post", f"{api}/{ready.public_id}/sign", {"version": ready.version}, PHYSICIAN, {200}),
        ("api:assessment_amend", "post", f"{api}/{signed.public_id}/amendments",
         {"reason": "typo", "changes": {"goals": "walk the dog"}}, PHYSICIAN, {201}),
        ("api:assessment_codes", "get", "/api/v1/assessments/codes?q=myalgia", None, CODES, {200}),
        ("api:assessment_classify", "post", "/api/v1/assessments/exam/classify", EXAM, CLINICAL, {200}),
        ("api:assessment_fibromyalgia", "post", "/api/v1/assessments/fibromyalgia/score",
         {"painful_areas": ["neck"], "fatigue": 1, "waking_unrefreshed": 1, "cognitive_symptoms": 0, "headaches": False,
          "lower_abdominal_pain_or_cramps": False, "depression": False, "symptom_months": 4},
         CLINICAL, {200}),
    ]
