"""The assessment API: the visit round trip, and every refusal as a JSON 4xx with the audit trail intact."""

from __future__ import annotations

import json

import pytest

from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.tests.factories import ACTIVE_UPPER_TRAPEZIUS, draft_visit, ready_visit
from triggerpoint.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _call(client, headers, method, path, body=None):
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    response = getattr(client, method)(path, **kwargs, **headers)
    return response.status_code, (response.json() if response.content else None)


def _visits(patient):
    return f"/api/v1/assessments/patients/{patient.public_id}/visits"


def test_a_visit_made_through_the_api_from_start_to_signature(client, bearer, physician, patient):
    headers = bearer(physician)
    status, visit = _call(client, headers, "post", _visits(patient), {"visit_date": "2026-11-20",
                                                                     "chief_complaint": "Neck pain"})
    assert status == 201 and visit["status"] == "draft" and visit["version"] == 1
    base = f"{_visits(patient)}/{visit['id']}"
    status, visit = _call(client, headers, "patch", base, {
        "version": 1, "pain_drawing": [{"zone": "neck-side-r", "intensity": 7}],
        "nrs_average": 5, "peg_pain": 5, "peg_enjoyment": 6, "peg_activity": 4,
    })
    assert status == 200 and visit["record"]["peg_score"] == 5.0 and visit["version"] == 2
    status, finding = _call(client, headers, "post", f"{base}/exam-findings", ACTIVE_UPPER_TRAPEZIUS)
    assert status == 201 and finding["classification"] == "active" and finding["rule_id"] == "ASM-TRP-CLASSIFY"
    status, diagnosis = _call(client, headers, "post", f"{base}/diagnoses", {"code": "M79.12"})
    assert status == 201 and diagnosis["is_primary"] is True
    status, visit = _call(client, headers, "patch", base, {
        "version": 2, "planned_sites": [{"muscle": "upper_trapezius", "side": "right"}]})
    assert visit["signing_problems"] == []
    status, visit = _call(client, headers, "post", f"{base}/sign", {"version": visit["version"]})
    assert status == 200 and visit["status"] == "signed" and visit["signed_by"] == physician.username
    status, amended = _call(client, headers, "post", f"{base}/amendments",
                            {"reason": "Worst pain reported late", "changes": {"nrs_worst": 9}})
    assert status == 201
    assert amended["record"]["nrs_worst"] == 9 and amended["signed_record"]["nrs_worst"] is None
    assert amended["amendments"][0]["changes"]["nrs_worst"] == {"before": None, "after": 9}


def test_it_lists_every_problem_with_a_422(client, bearer, physician, patient):
    visit = draft_visit(physician, patient)
    status, body = _call(client, bearer(physician), "patch", f"{_visits(patient)}/{visit.public_id}",
                         {"version": visit.version, "nrs_worst": 12, "adjuncts": ["yoga"], "pain_drawing": {"wing": 2}})
    assert status == 422
    problems = " ".join(body["detail"])
    assert "nrs_pain worst" in problems and "yoga" in problems and "wing" in problems


def test_it_refuses_a_patch_without_a_version_or_with_a_stale_one(client, bearer, physician, patient):
    visit = draft_visit(physician, patient, goals="first")
    headers = bearer(physician)
    path = f"{_visits(patient)}/{visit.public_id}"
    status, body = _call(client, headers, "patch", path, {"goals": "x"})
    assert status == 422 and "version is required" in body["detail"][0]
    status, body = _call(client, headers, "patch", path, {"version": visit.version - 1, "goals": "x"})
    assert status == 409 and "changed by someone else" in body["detail"]
    assert Visit.objects.get(pk=visit.pk).goals == "first"


def test_a_non_json_body_is_a_4xx(client, bearer, physician, patient):
    visit = draft_visit(physician, patient)
    response = client.patch(f"{_visits(patient)}/{visit.public_id}", data="{not json", content_type="application/json",
                            **bearer(physician))
    assert 400 <= response.status_code < 500


def test_a_category_header_code_is_a_422_naming_the_billable_codes(client, bearer, physician, patient):
    visit = draft_visit(physician, patient)
    status, body = _call(client, bearer(physician), "post", f"{_visits(patient)}/{visit.public_id}/diagnoses",
                         {"code": "M54.5"})
    assert status == 422 and "M54.50" in body["detail"][0]


def test_a_signed_visit_refuses_changes_with_409(client, bearer, physician, patient):
    visit = ready_visit(physician, patient)
    headers = bearer(physician)
    base = f"{_visits(patient)}/{visit.public_id}"
    assert _call(client, headers, "post", f"{base}/sign", {"version": visit.version})[0] == 200
    version = Visit.objects.get(pk=visit.pk).version
    for method, path, body in (
        ("patch", base, {"version": version, "goals": "x"}),
        ("post", f"{base}/exam-findings", ACTIVE_UPPER_TRAPEZIUS),
        ("post", f"{base}/diagnoses", {"code": "M54.2"}),
        ("post", f"{base}/sign", {"version": version}),
    ):
        status, answer = _call(client, headers, method, path, body)
        assert status == 409, (method, path, status)
        assert "amendment" in answer["detail"]


def test_a_nurse_may_draft_but_not_sign_or_amend(client, bearer, nurse, patient):
    visit = ready_visit(nurse, patient)
    headers = bearer(nurse)
    base = f"{_visits(patient)}/{visit.public_id}"
    assert _call(client, headers, "post", f"{base}/sign", {"version": visit.version})[0] == 403
    assert _call(client, headers, "post", f"{base}/amendments", {"reason": "x", "changes": {"goals": "y"}})[0] == 403


def test_another_clinic_gets_404_and_front_desk_gets_403(client, bearer, physician, physician_b, front_desk, patient):
    visit = draft_visit(physician, patient)
    path = f"{_visits(patient)}/{visit.public_id}"
    assert _call(client, bearer(physician_b), "get", path)[0] == 404
    assert _call(client, bearer(front_desk), "get", path)[0] == 403
    assert _call(client, {}, "get", path)[0] == 401


def test_a_visit_is_only_reached_through_its_own_patient(client, bearer, physician, patient, other_patient):
    visit = draft_visit(physician, patient)
    assert _call(client, bearer(physician), "get", f"{_visits(other_patient)}/{visit.public_id}")[0] == 404


def test_unknown_amendment_fields_and_empty_reasons_are_422(client, bearer, physician, patient):
    visit = ready_visit(physician, patient)
    headers = bearer(physician)
    base = f"{_visits(patient)}/{visit.public_id}"
    _call(client, headers, "post", f"{base}/sign", {"version": visit.version})
    status, body = _call(client, headers, "post", f"{base}/amendments", {"reason": "", "changes": {"status": "draft"}})
    assert status == 422
    assert any("reason" in p for p in body["detail"]) and any("status" in p for p in body["detail"])


def test_reads_and_writes_through_the_api_are_audited(client, bearer, physician, patient):
    visit = draft_visit(physician, patient)
    headers = bearer(physician)
    before = AuditEvent.objects.filter(patient=patient).count()
    _call(client, headers, "get", f"{_visits(patient)}/{visit.public_id}")
    _call(client, headers, "post", f"{_visits(patient)}/{visit.public_id}/diagnoses", {"code": "M54.2"})
    _call(client, headers, "post", f"{_visits(patient)}/{visit.public_id}/diagnoses", {"code": "NOPE"})
    events = list(AuditEvent.objects.filter(patient=patient).order_by("id")[before:])
    assert [e.action for e in events] == ["assessment.visit.viewed", "assessment.diagnosis.added"]
    assert events[0].details["channel"] == "api" and all(e.actor == physician for e in events)


def test_the_pure_calculators_need_no_patient(client, bearer, physician, front_desk):
    headers = bearer(physician)
    status, codes = _call(client, bearer(front_desk), "get", "/api/v1/assessments/codes?q=low%20back&on=2026-11-20")
    assert status == 200 and any(c["code"] == "M54.50" and c["billable"] for c in codes)
    status, result = _call(client, headers, "post", "/api/v1/assessments/exam/classify",
                           dict(ACTIVE_UPPER_TRAPEZIUS, recognised_pain=False))
    assert status == 200 and result["status"] == "latent"
    status, body = _call(client, headers, "post", "/api/v1/assessments/exam/classify", {"muscle": "upper_trapezius"})
    assert status == 422 and "missing field: side" in body["detail"]
    status, body = _call(client, headers, "post", "/api/v1/assessments/fibromyalgia/score", {"fatigue": 5})
    assert status == 422 and len(body["detail"]) > 3
