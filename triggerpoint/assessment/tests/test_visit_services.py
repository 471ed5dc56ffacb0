"""The visit services: drafting with a version check, exam classification, diagnoses, signing,
immutability after signing, amendments and the audit trail they leave."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from triggerpoint.assessment import (
    exam_findings,
    visit_amendments,
    visit_diagnoses,
    visit_drafting,
    visit_reads,
    visit_signing,
)
from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis
from triggerpoint.assessment.tests.factories import (
    ACTIVE_UPPER_TRAPEZIUS,
    LATENT_LEVATOR,
    TENDER_POINT_ONLY,
    draft_visit,
    ready_visit,
)
from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError

pytestmark = pytest.mark.django_db


def _actions(visit):
    return list(
        AuditEvent.objects.filter(patient=visit.patient).order_by("id").values_list("action", flat=True)
    )


# ---------------------------------------------------------------- drafting


def test_it_saves_a_draft_and_derives_the_peg3_score(physician, patient):
    visit = draft_visit(physician, patient, peg_pain=6, peg_enjoyment=5, peg_activity=4, nrs_average=6)
    visit.refresh_from_db()
    assert visit.peg_score == Decimal("5.00")
    assert visit.version == 2


def test_it_leaves_the_peg3_score_empty_until_all_three_items_are_answered(physician, patient):
    visit = draft_visit(physician, patient, peg_pain=6, peg_enjoyment=5)
    assert visit.peg_score is None


def test_it_refuses_a_draft_saved_from_a_stale_version(physician, nurse, patient):
    visit = draft_visit(physician, patient)
    read_by_both = visit.version
    with acting_as(nurse):
        visit_drafting.save_visit_draft(nurse, Visit.objects.get(pk=visit.pk), read_by_both, {"goals": "walk the dog"})
    with acting_as(physician), pytest.raises(StaleVersion):
        visit_drafting.save_visit_draft(physician, Visit.objects.get(pk=visit.pk), read_by_both, {"goals": "sleep"})
    assert Visit.objects.get(pk=visit.pk).goals == "walk the dog"


def test_it_lists_every_problem_with_a_draft_at_once(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician), pytest.raises(RuleInputError) as caught:
        visit_drafting.save_visit_draft(
            physician,
            visit,
            visit.version,
            {
                "nrs_now": 11,
                "causes": [{"id": "gravity"}],
                "pain_drawing": {"left-wing": 3},
                "follow_up_interval": "next_year",
                "onset_date": "2027-01-01",
                "favourite_colour": "blue",
            },
        )
    problems = " ".join(caught.value.problems)
    for expected in ("nrs_pain now", "gravity", "left-wing", "next_year", "onset_date", "favourite_colour"):
        assert expected in problems
    assert Visit.objects.get(pk=visit.pk).version == visit.version


def test_it_needs_a_description_for_an_other_cause(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician), pytest.raises(RuleInputError, match="needs a short description"):
        visit_drafting.save_visit_draft(physician, visit, visit.version, {"causes": [{"id": "other"}]})
    saved = visit_drafting.save_visit_draft(
        physician, visit, visit.version, {"causes": [{"id": "other", "detail": "carrying a toddler"}]}
    )
    assert saved.causes == [{"id": "other", "detail": "carrying a toddler"}]


def test_it_stores_the_fibromyalgia_result_with_its_rule(physician, patient):
    inputs = {
        "painful_areas": ["neck", "upper_back", "lower_back", "shoulder_girdle_left", "shoulder_girdle_right",
                          "hip_left", "hip_right", "upper_leg_left"],
        "fatigue": 2, "waking_unrefreshed": 2, "cognitive_symptoms": 1,
        "headaches": True, "lower_abdominal_pain_or_cramps": False, "depression": False,
        "symptom_months": 6,
    }
    visit = draft_visit(physician, patient, fibromyalgia_inputs=inputs)
    assert visit.fibromyalgia_result["criteria_met"] is True
    assert visit.fibromyalgia_result["rule"] == "ASM-FM-ACR2016"
    assert "different condition" in visit.fibromyalgia_result["clinician_message"]


def test_staff_of_another_clinic_cannot_open_a_draft(physician, physician_b, patient):
    visit = draft_visit(physician, patient)
    with pytest.raises(Http404):
        visit_drafting.save_visit_draft(physician_b, visit, visit.version, {"goals": "x"})


def test_front_desk_cannot_create_a_visit(front_desk, patient):
    with pytest.raises(PermissionDenied):
        visit_drafting.create_visit(front_desk, patient)


# ---------------------------------------------------------------- exam and plan


def test_it_classifies_and_stores_an_exam_finding_with_the_rule_id_and_version(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        active = exam_findings.record_exam_finding(physician, visit, ACTIVE_UPPER_TRAPEZIUS)
        latent = exam_findings.record_exam_finding(physician, visit, LATENT_LEVATOR)
        tender = exam_findings.record_exam_finding(physician, visit, TENDER_POINT_ONLY)
    assert (active.classification, latent.classification, tender.classification) == (
        "active", "latent", "not_trigger_point"
    )
    assert active.rule_id == "ASM-TRP-CLASSIFY" and active.rule_version == 2
    assert active.meets_lcd_documentation is True
    assert "tender point" in tender.basis[0]["message"]


def test_recording_the_same_muscle_and_side_again_replaces_the_finding(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        exam_findings.record_exam_finding(physician, visit, LATENT_LEVATOR)
        exam_findings.record_exam_finding(physician, visit, dict(LATENT_LEVATOR, recognised_pain=True, spontaneous_pain=True))
    rows = list(ExamFinding.objects.filter(visit=visit))
    assert len(rows) == 1 and rows[0].classification == "active"


def test_it_refuses_an_exam_finding_with_unstated_findings(physician, patient):
    visit = draft_visit(physician, patient)
    partial = {k: v for k, v in ACTIVE_UPPER_TRAPEZIUS.items() if k not in ("jump_sign", "focal_nodule")}
    with acting_as(physician), pytest.raises(RuleInputError) as caught:
        exam_findings.record_exam_finding(physician, visit, partial)
    assert {"missing field: jump_sign", "missing field: focal_nodule"} <= set(caught.value.problems)


def test_the_plan_may_only_name_examined_sites_with_a_trigger_point(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        exam_findings.record_exam_finding(physician, visit, TENDER_POINT_ONLY)
        visit.refresh_from_db()
        with pytest.raises(RuleInputError) as caught:
            visit_drafting.save_visit_draft(
                physician,
                visit,
                visit.version,
                {"planned_sites": [{"muscle": "infraspinatus", "side": "right"}, {"muscle": "deltoid", "side": "left"}]},
            )
    problems = " ".join(caught.value.problems)
    assert "no trigger point in infraspinatus" in problems
    assert "deltoid (left) was not examined" in problems


def test_removing_an_exam_finding_withdraws_its_planned_site(physician, patient):
    visit = ready_visit(physician, patient)
    finding = visit.exam_findings.get()
    with acting_as(physician):
        exam_findings.remove_exam_finding(physician, finding)
    visit.refresh_from_db()
    assert visit.planned_sites == []
    assert not visit.exam_findings.exists()
    assert ExamFinding.all_objects.filter(pk=finding.pk, deleted_at__isnull=False).exists()


# ---------------------------------------------------------------- diagnoses


def test_it_refuses_a_category_header_and_names_the_billable_codes(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician), pytest.raises(RuleInputError, match="M79.12"):
        visit_diagnoses.add_diagnosis(physician, visit, "M79.1")
    assert not visit.diagnoses.exists()


def test_the_first_diagnosis_is_primary_and_a_new_primary_demotes_it(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        first = visit_diagnoses.add_diagnosis(physician, visit, "m79.12")
        second = visit_diagnoses.add_diagnosis(physician, visit, "M54.2")
        assert (first.code, first.is_primary, second.is_primary) == ("M79.12", True, False)
        visit_diagnoses.set_primary_diagnosis(physician, second)
    assert list(visit.diagnoses.filter(is_primary=True).values_list("code", flat=True)) == ["M54.2"]


def test_it_refuses_the_same_code_twice(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        visit_diagnoses.add_diagnosis(physician, visit, "M54.2")
        with pytest.raises(RuleInputError, match="already"):
            visit_diagnoses.add_diagnosis(physician, visit, "M54.2")


# ---------------------------------------------------------------- signing


def test_a_physician_signs_a_complete_visit(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        signed = visit_signing.sign_visit(physician, visit, visit.version)
    assert signed.status == "signed" and signed.signed_by == physician and signed.signed_at is not None


def test_a_nurse_cannot_sign(nurse, patient):
    visit = ready_visit(nurse, patient)
    with acting_as(nurse), pytest.raises(PermissionDenied):
        visit_signing.sign_visit(nurse, visit, visit.version)
    assert Visit.objects.get(pk=visit.pk).status == "draft"


def test_it_will_not_sign_without_a_diagnosis_and_a_baseline_pain_score(physician, patient):
    visit = draft_visit(physician, patient)
    with acting_as(physician), pytest.raises(RuleInputError) as caught:
        visit_signing.sign_visit(physician, visit, visit.version)
    problems = " ".join(caught.value.problems)
    assert "diagnosis" in problems and "average pain score" in problems


def test_it_will_not_sign_a_version_it_did_not_see(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician), pytest.raises(StaleVersion):
        visit_signing.sign_visit(physician, visit, visit.version - 1)


# ---------------------------------------------------------------- immutability


@pytest.fixture
def signed_visit(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        return visit_signing.sign_visit(physician, visit, visit.version)


def test_the_model_refuses_to_save_a_signed_visit(signed_visit):
    signed_visit.goals = "changed behind the service's back"
    with pytest.raises(ImmutableRecord):
        signed_visit.save()
    with pytest.raises(ImmutableRecord):
        signed_visit.save_versioned(signed_visit.version, fields=["goals"])


def test_the_model_refuses_to_change_findings_and_diagnoses_of_a_signed_visit(signed_visit):
    finding = signed_visit.exam_findings.get()
    finding.taut_band = False
    with pytest.raises(ImmutableRecord):
        finding.save()
    diagnosis = signed_visit.diagnoses.get()
    diagnosis.is_primary = False
    with pytest.raises(ImmutableRecord):
        diagnosis.save()
    with pytest.raises(ImmutableRecord):
        VisitDiagnosis(clinic=signed_visit.clinic, visit=signed_visit, code="M54.2", description="x").save()


def test_every_draft_service_refuses_a_signed_visit(physician, signed_visit):
    finding = signed_visit.exam_findings.get()
    diagnosis = signed_visit.diagnoses.get()
    attempts = [
        lambda: visit_drafting.save_visit_draft(physician, signed_visit, signed_visit.version, {"goals": "x"}),
        lambda: exam_findings.record_exam_finding(physician, signed_visit, LATENT_LEVATOR),
        lambda: exam_findings.remove_exam_finding(physician, finding),
        lambda: visit_diagnoses.add_diagnosis(physician, signed_visit, "M54.2"),
        lambda: visit_diagnoses.remove_diagnosis(physician, diagnosis),
        lambda: visit_signing.sign_visit(physician, signed_visit, signed_visit.version),
    ]
    with acting_as(physician):
        for attempt in attempts:
            with pytest.raises(ImmutableRecord):
                attempt()


# ---------------------------------------------------------------- amendments


def test_an_amendment_keeps_the_signed_values_and_records_before_and_after(physician, signed_visit):
    signed_before = visit_reads.snapshot(signed_visit)
    with acting_as(physician):
        amendment = visit_amendments.amend_visit(
            physician,
            signed_visit,
            "Patient corrected her worst pain score",
            {"nrs_worst": 9, "goals": "Turn my head when driving"},
        )
    assert amendment.changes["nrs_worst"] == {"before": 8, "after": 9}
    assert amendment.author == physician
    refreshed = Visit.objects.get(pk=signed_visit.pk)
    assert visit_reads.snapshot(refreshed) == signed_before  # the signed rows never changed
    current = visit_reads.current_record(refreshed)
    assert current["nrs_worst"] == 9 and current["goals"] == "Turn my head when driving"
    assert current["amended_fields"] == ["goals", "nrs_worst"]


def test_an_amendment_can_replace_the_diagnoses_with_validated_codes(physician, signed_visit):
    with acting_as(physician):
        with pytest.raises(RuleInputError, match="category header"):
            visit_amendments.amend_visit(physician, signed_visit, "Coding fix", {"diagnoses": [{"code": "M54.5", "is_primary": True}]})
        visit_amendments.amend_visit(
            physician,
            signed_visit,
            "Add cervicalgia",
            {"diagnoses": [{"code": "M79.12", "is_primary": True}, {"code": "M54.2", "is_primary": False}]},
        )
    current = visit_reads.current_record(Visit.objects.get(pk=signed_visit.pk))
    assert [d["code"] for d in current["diagnoses"]] == ["M79.12", "M54.2"]


def test_an_amended_exam_is_reclassified_and_a_plan_without_trigger_point_is_refused(physician, signed_visit):
    no_trigger_point = dict(ACTIVE_UPPER_TRAPEZIUS, taut_band=False)
    with acting_as(physician):
        with pytest.raises(RuleInputError, match="no longer has a trigger point"):
            visit_amendments.amend_visit(physician, signed_visit, "Re-read exam", {"exam_findings": [no_trigger_point]})
        amendment = visit_amendments.amend_visit(
            physician,
            signed_visit,
            "Re-read exam",
            {"exam_findings": [no_trigger_point], "planned_sites": []},
        )
    assert amendment.changes["exam_findings"]["after"][0]["classification"] == "not_trigger_point"


def test_an_amendment_needs_a_reason_and_a_real_change(physician, signed_visit):
    with acting_as(physician):
        with pytest.raises(RuleInputError, match="reason"):
            visit_amendments.amend_visit(physician, signed_visit, "  ", {"goals": "x"})
        with pytest.raises(RuleInputError, match="nothing changes"):
            visit_amendments.amend_visit(physician, signed_visit, "No-op", {"nrs_worst": 8})


def test_a_draft_is_not_amended_and_a_nurse_cannot_amend(physician, nurse, patient, signed_visit):
    draft = draft_visit(physician, patient)
    with acting_as(physician), pytest.raises(RuleInputError, match="only a signed visit"):
        visit_amendments.amend_visit(physician, draft, "why", {"goals": "x"})
    with acting_as(nurse), pytest.raises(PermissionDenied):
        visit_amendments.amend_visit(nurse, signed_visit, "why", {"goals": "x"})


def test_an_amendment_cannot_be_edited(physician, signed_visit):
    with acting_as(physician):
        amendment = visit_amendments.amend_visit(physician, signed_visit, "Typo", {"goals": "Sleep through"})
    amendment.reason = "rewritten history"
    with pytest.raises(ImmutableRecord):
        amendment.save()


# ---------------------------------------------------------------- audit trail


def test_each_step_of_a_visit_leaves_one_audit_event_with_the_actor(physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_signing.sign_visit(physician, visit, visit.version)
        visit_amendments.amend_visit(physician, visit, "Typo in goals", {"goals": "Sleep through the night"})
    assert _actions(visit) == [
        "assessment.visit.created",
        "assessment.visit.draft_saved",
        "assessment.exam_finding.recorded",
        "assessment.diagnosis.added",
        "assessment.visit.draft_saved",
        "assessment.visit.signed",
        "assessment.visit.amended",
    ]
    events = AuditEvent.objects.filter(patient=patient)
    assert set(events.values_list("actor", flat=True)) == {physician.pk}
    signed = events.get(action="assessment.visit.signed")
    assert signed.details["content_sha256"] == visit_reads.content_hash(visit_reads.snapshot(Visit.objects.get(pk=visit.pk)))
    amended = events.get(action="assessment.visit.amended")
    assert amended.details["fields"] == ["goals"] and amended.details["reason"] == "Typo in goals"


def test_a_refused_change_writes_no_audit_event(physician, patient):
    visit = draft_visit(physician, patient)
    before = AuditEvent.objects.count()
    with acting_as(physician), pytest.raises(RuleInputError):
        visit_diagnoses.add_diagnosis(physician, visit, "ZZZ.99")
    assert AuditEvent.objects.count() == before
