"""Screening records: evaluation on the chart's facts, review, the override path and the procedure gate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.models import Allergy, RiskFactor
from triggerpoint.screening import services
from triggerpoint.screening.models import ClinicScreeningPolicy, ScreeningRecord
from triggerpoint.screening.tests.conftest import complete_answers


def _rules(screening):
    return {(f["rule_id"], f["severity"]) for f in screening.findings}


def test_it_refuses_a_plan_with_an_unknown_muscle_or_drug_listing_the_allowed_values(physician, patient, procedure_day):
    plan = {"sites": [{"muscle": "trapezoid", "side": "left"}], "injectates": [{"drug": "novocainex"}], "guidance": "radar"}
    with pytest.raises(RuleInputError) as caught:
        services.create_screening(physician, patient, procedure_day, plan)
    problems = " | ".join(caught.value.problems)
    assert "plan.sites[0].muscle 'trapezoid' is not allowed; allowed:" in problems and "upper_trapezius" in problems
    assert "'novocainex' is not a known drug; allowed:" in problems and "lidocaine" in problems
    assert "plan.guidance 'radar' is not allowed; allowed: landmark, ultrasound" in problems
    assert not ScreeningRecord.objects.exists()


def test_a_new_screening_is_pending_lists_its_missing_facts_and_blocks_the_procedure(screening):
    screening = services.evaluate_screening(screening)
    assert screening.status == "pending"
    missing = [m["problem"] for m in screening.missing_facts]
    assert any(problem.startswith("today is required") for problem in missing)
    assert any(problem.startswith("events is required") for problem in missing)
    assert any(problem.startswith("patient.pregnant is required") for problem in missing)  # female, not asked yet
    assert services.screening_allows_procedure(screening) is False


def test_complete_reassuring_answers_make_the_screening_ready_with_rule_ids_and_versions(answered):
    assert answered.status == "ready"
    assert answered.missing_facts == []
    assert services.screening_allows_procedure(answered) is True
    assert answered.evaluated_facts["request"]["patient"]["weight_kg"] == 70.0
    assert answered.evaluated_facts["policy"]["recent_event_window_days"] == 28
    for finding in answered.findings:
        assert finding["rule_id"].startswith("SCR-") and isinstance(finding["rule_version"], int)
        assert finding["basis"]


def test_a_missing_weight_on_the_chart_is_a_missing_fact_not_a_silent_ready(screening, patient, nurse):
    patient.weight_kg = None
    patient.save()
    with acting_as(nurse):
        screening = services.record_answers(screening, complete_answers(), source="staff", user=nurse)
    assert screening.status == "pending"
    weight = [m for m in screening.missing_facts if m["problem"].startswith("patient.weight_kg")]
    assert weight and weight[0]["hint"] == "Record the patient's weight on the chart."


def test_it_defers_when_the_nurse_records_a_fever_today_at_the_threshold_in_fahrenheit(answered, nurse):
    with acting_as(nurse):
        below = services.record_answers(answered, {"today": {"temperature": {"value": 100.3, "unit": "F"}}},
                                        source="staff", user=nurse)
        assert below.status == "ready"
        at = services.record_answers(below, {"today": {"temperature": {"value": 100.4, "unit": "F"}}},
                                     source="staff", user=nurse)
    assert at.status == "defer"
    assert ("SCR-FEVER-TODAY", "defer") in _rules(at)
    assert services.screening_allows_procedure(at) is False


def test_an_allergy_on_the_chart_to_a_planned_amide_contraindicates_it(screening, patient, nurse):
    Allergy.objects.create(clinic=patient.clinic, patient=patient, substance="Bupivacaine", severity="severe")
    with acting_as(nurse):
        screening = services.record_answers(screening, complete_answers(), source="staff", user=nurse)
    assert screening.status == "contraindicated"
    finding = next(f for f in screening.findings if f["rule_id"] == "SCR-ALLERGY-INJECTATE")
    assert "saline injection" in finding["message"] and "dry needling" in finding["message"]


def test_a_new_allergy_the_patient_reports_counts_like_one_on_the_chart(screening, nurse):
    answers = complete_answers() | {"new_allergies": "latex, lidocaine"}
    with acting_as(nurse):
        screening = services.record_answers(screening, answers, source="staff", user=nurse)
    assert screening.status == "contraindicated"


def test_a_blood_thinner_on_the_chart_is_information_unless_the_physician_marked_high_bleeding_risk(
    screening, patient, nurse
):
    from triggerpoint.patients.models import Medication

    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Apixaban 5 mg", drug_class="anticoagulant")
    with acting_as(nurse):
        screening = services.record_answers(screening, complete_answers(), source="staff", user=nurse)
    assert ("SCR-ANTICOAGULANT", "info") in _rules(screening)
    # The fixture's lumbar plan is at deep, non-compressible sites: issue 14 makes that a review on its own.
    assert ("SCR-DEEP-SITE-BLEEDING", "review") in _rules(screening)
    screening.plan = {**screening.plan, "sites": [{"muscle": "iliocostalis_lumborum", "side": "left"}]}
    screening.save(update_fields=["plan"])
    screening = services.evaluate_screening(screening)
    assert ("SCR-ANTICOAGULANT", "info") in _rules(screening)
    assert screening.status == "ready"
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="high_bleeding_risk")
    screening = services.evaluate_screening(screening)
    assert ("SCR-ANTICOAGULANT", "review") in _rules(screening)
    assert screening.status == "review"


def test_the_clinic_window_replaces_the_default_28_days(screening, patient, nurse, procedure_day):
    event_day = (procedure_day - timedelta(days=25)).isoformat()
    answers = complete_answers() | {"events": [{"type": "illness", "date": event_day}]}
    with acting_as(nurse):
        screening = services.record_answers(screening, answers, source="staff", user=nurse)
    assert screening.status == "review"
    ClinicScreeningPolicy.objects.create(clinic=patient.clinic, overrides={"recent_event_window_days": 21})
    screening = services.evaluate_screening(screening)
    assert screening.status == "ready"
    assert screening.evaluated_facts["policy"]["recent_event_window_days"] == 21


def test_a_clinic_fever_threshold_is_read_as_an_exact_decimal(screening, patient, nurse):
    ClinicScreeningPolicy.objects.create(clinic=patient.clinic, overrides={"fever_threshold_c": 37.5})
    with acting_as(nurse):
        screening = services.record_answers(
            screening, complete_answers(temperature={"value": 37.5, "unit": "C"}), source="staff", user=nurse
        )
    assert screening.status == "defer"
    assert screening.evaluated_facts["policy"]["fever_threshold_c"] == str(Decimal("37.5"))


# ------------------------------------------------------------------ review and the override path
def test_review_needs_an_evaluated_screening_and_a_physician(screening, answered, physician, nurse):
    with pytest.raises(PermissionDenied):
        services.review_screening(nurse, answered, expected_version=answered.version)
    with acting_as(physician):
        reviewed = services.review_screening(physician, answered, note="Fine.", expected_version=answered.version)
    assert reviewed.reviewed_by == physician and reviewed.reviewed_at is not None
    event = AuditEvent.objects.filter(action="screening.screening.reviewed").get()
    assert event.actor == physician and event.object_id == str(answered.public_id)


def test_review_of_a_pending_screening_is_refused(screening, physician):
    screening = services.evaluate_screening(screening)
    with pytest.raises(services.ScreeningStateError):
        services.review_screening(physician, screening, expected_version=screening.version)


def test_override_requires_a_physician_a_reason_and_a_blocking_status(answered, physician, nurse):
    with pytest.raises(services.ScreeningStateError, match="Only a deferred"):
        services.override_screening(physician, answered, reason="No reason to block at all.", expected_version=answered.version)
    with acting_as(nurse):
        deferred = services.record_answers(answered, {"today": {"on_antibiotics": True}}, source="staff", user=nurse)
    assert deferred.status == "defer" and not services.screening_allows_procedure(deferred)
    with pytest.raises(PermissionDenied):
        services.override_screening(nurse, deferred, reason="The nurse thinks it is fine.", expected_version=deferred.version)
    with pytest.raises(services.ScreeningStateError, match="reason"):
        services.override_screening(physician, deferred, reason="   ok   ", expected_version=deferred.version)
    assert not AuditEvent.objects.filter(action="screening.screening.overridden").exists()

    with acting_as(physician):
        overridden = services.override_screening(
            physician, deferred, reason="Prophylactic antibiotic only; no infection.", expected_version=deferred.version
        )
    assert overridden.overridden_by == physician and overridden.status == "defer"
    assert services.screening_allows_procedure(overridden) is True
    event = AuditEvent.objects.get(action="screening.screening.overridden")
    assert event.actor == physician
    assert event.details["reason"] == "Prophylactic antibiotic only; no infection."
    assert ["SCR-ANTIBIOTICS-TODAY", 1, "defer"] in event.details["overridden_rules"]


def test_new_answers_that_change_the_findings_clear_an_override(answered, physician, nurse):
    with acting_as(nurse):
        deferred = services.record_answers(answered, {"today": {"on_antibiotics": True}}, source="staff", user=nurse)
    with acting_as(physician):
        overridden = services.override_screening(
            physician, deferred, reason="Prophylactic antibiotic only; no infection.", expected_version=deferred.version
        )
    with acting_as(nurse):
        worse = services.record_answers(overridden, {"today": {"infection_at_site": True}}, source="staff", user=nurse)
    assert worse.status == "contraindicated"
    assert worse.overridden_at is None and worse.reviewed_at is None
    assert services.screening_allows_procedure(worse) is False
    evaluated = AuditEvent.objects.filter(action="screening.screening.evaluated").first()
    assert evaluated.details["cleared"] == ["review", "override"]


def test_evaluating_again_with_nothing_changed_keeps_the_sign_off(answered, physician):
    with acting_as(physician):
        reviewed = services.review_screening(physician, answered, expected_version=answered.version)
    again = services.evaluate_screening(reviewed)
    assert again.reviewed_at is not None


def test_a_stale_version_is_refused(answered, physician):
    with pytest.raises(StaleVersion):
        services.review_screening(physician, answered, expected_version=answered.version - 1)


def test_the_gate_refuses_no_screening_and_a_soft_deleted_one(answered):
    assert services.screening_allows_procedure(None) is False
    answered.soft_delete()
    assert services.screening_allows_procedure(answered) is False


def test_a_patient_cannot_change_answers_after_the_review(answered, physician):
    with acting_as(physician):
        reviewed = services.review_screening(physician, answered, expected_version=answered.version)
    with pytest.raises(services.ScreeningStateError):
        services.record_answers(reviewed, complete_answers(feels_unwell=True), source="patient_link")


def test_staff_of_another_clinic_cannot_create_or_answer(physician_b, patient, screening, procedure_day, lumbar_plan):
    from django.http import Http404

    with pytest.raises(Http404):
        services.create_screening(physician_b, patient, procedure_day, lumbar_plan)
    with pytest.raises(Http404):
        services.record_answers(screening, complete_answers(), source="staff", user=physician_b)


def test_every_change_writes_an_audit_event(answered, physician):
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[:3] == ["screening.screening.created", "screening.answers.recorded", "screening.screening.evaluated"]


def test_the_preparation_instructions_name_the_procedure_day_and_the_blood_thinner(screening, patient):
    from triggerpoint.patients.models import Medication
    from triggerpoint.screening.preparation import patient_date

    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Warfarin 5 mg", drug_class="anticoagulant")
    texts = {item.id: item.text for item in services.preparation_for(screening)}
    assert patient_date(screening.planned_procedure_date) in texts["come_healthy"]
    assert "Warfarin" in texts["blood_thinner"]
    assert "pregnancy" in texts  # female patient


# ------------------------------------------------------------------ corticosteroid count from the chart and the answers
STEROID_PLAN = {"sites": [{"muscle": "quadratus_lumborum", "side": "left"}],
                "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}], "guidance": "landmark"}


def _signed_steroid_procedures(patient, physician, count, before):
    from triggerpoint.procedures.models import Injectate, Procedure

    for index in range(count):
        procedure = Procedure.objects.create(clinic=patient.clinic, patient=patient, performed_by=physician,
                                             procedure_date=before - timedelta(days=30 * (index + 1)))
        Injectate.objects.create(procedure=procedure, drug="triamcinolone", volume_ml=Decimal("1.0"))
        Procedure.objects.filter(pk=procedure.pk).update(status="signed")


def _steroid_screening(physician, patient, day, nurse, answers):
    with acting_as(physician):
        screening = services.create_screening(physician, patient, day, STEROID_PLAN)
    with acting_as(nurse):
        return services.record_answers(screening, answers, source="staff", user=nurse)


def test_an_unanswered_outside_steroid_count_is_flagged_as_not_checked(physician, nurse, patient, procedure_day):
    screening = _steroid_screening(physician, patient, procedure_day, nurse, complete_answers())
    assert ("SCR-STEROID-YEARLY", "info") in _rules(screening)
    assert "history" not in screening.evaluated_facts["request"] or not screening.evaluated_facts["request"]["history"]


def test_outside_steroid_injections_add_to_the_clinics_own(physician, nurse, patient, procedure_day):
    _signed_steroid_procedures(patient, physician, 1, procedure_day)
    at_limit = _steroid_screening(physician, patient, procedure_day, nurse,
                                  complete_answers() | {"steroid_injections_elsewhere_12m": 2})
    assert not any(rule == "SCR-STEROID-YEARLY" for rule, _ in _rules(at_limit))  # 1 + 2 + this one = 4
    over = _steroid_screening(physician, patient, procedure_day, nurse,
                              complete_answers() | {"steroid_injections_elsewhere_12m": 3})
    assert ("SCR-STEROID-YEARLY", "review") in _rules(over)


def test_the_clinics_own_steroid_count_alone_can_reach_the_limit(physician, nurse, patient, procedure_day):
    _signed_steroid_procedures(patient, physician, 4, procedure_day)
    screening = _steroid_screening(physician, patient, procedure_day, nurse, complete_answers())
    assert ("SCR-STEROID-YEARLY", "review") in _rules(screening)
    assert screening.evaluated_facts["request"]["history"] == {"steroid_injections_last_12_months": 4}


def test_steroid_count_uses_a_lower_bound_only_when_it_already_reaches_the_limit():
    from triggerpoint.screening.facts import steroid_count
    from triggerpoint.screening.rules import DEFAULT_POLICY

    assert steroid_count(3, None, DEFAULT_POLICY) is None
    assert steroid_count(4, None, DEFAULT_POLICY) == 4
    assert steroid_count(3, 0, DEFAULT_POLICY) == 3
    assert steroid_count(None, None, DEFAULT_POLICY) is None


def test_a_normal_temperature_after_the_review_keeps_the_sign_off_but_a_new_finding_clears_it(screening, physician, nurse):
    no_temperature = complete_answers()
    del no_temperature["today"]["temperature"]
    with acting_as(nurse):
        screening = services.record_answers(screening, no_temperature, source="staff", user=nurse)
    assert ("SCR-FEVER-TODAY", "review") in _rules(screening)
    with acting_as(physician):
        screening = services.review_screening(physician, screening, expected_version=screening.version)
    with acting_as(nurse):
        screening = services.record_answers(screening, {"today": {"temperature": {"value": 36.9, "unit": "C"}}},
                                            source="staff", user=nurse)
    assert screening.status == "ready" and screening.reviewed_by == physician
    with acting_as(nurse):
        screening = services.record_answers(screening, {"today": {"temperature": {"value": 37.9, "unit": "C"},
                                                                  "feels_unwell": True}}, source="staff", user=nurse)
    assert screening.status == "defer" and screening.reviewed_at is None


# ------------------------------------------------------------------ issue 14: facts gathered from the record
def test_the_last_signed_toxin_dose_is_gathered_from_the_notes_day_83_defers_day_84_does_not(
    screening, patient, nurse, procedure_day
):
    from triggerpoint.aftercare.tests.factories import signed_procedure

    screening.plan = {**screening.plan, "injectates": [{"drug": "onabotulinumtoxinA"}]}
    screening.save(update_fields=["plan"])
    signed_procedure(patient, drugs=("onabotulinumtoxinA",), on=procedure_day - timedelta(days=84), send_signal=False)
    with acting_as(nurse):
        screening = services.record_answers(screening, complete_answers() | {"breastfeeding": "no"}, source="staff", user=nurse)
    assert screening.evaluated_facts["request"]["history"]["last_botulinum_toxin_date"] == (
        procedure_day - timedelta(days=84)
    ).isoformat()
    assert "SCR-TOXIN-INTERVAL" not in {rule for rule, _ in _rules(screening)}
    signed_procedure(patient, drugs=("onabotulinumtoxinA",), on=procedure_day - timedelta(days=83), send_signal=False)
    screening = services.evaluate_screening(screening)
    assert ("SCR-TOXIN-INTERVAL", "defer") in _rules(screening)


def test_an_unsigned_toxin_note_does_not_count_as_a_prior_dose(screening, patient, nurse, procedure_day):
    from triggerpoint.aftercare.tests.factories import signed_procedure

    signed_procedure(patient, drugs=("onabotulinumtoxinA",), on=procedure_day - timedelta(days=10), signed=False)
    with acting_as(nurse):
        screening = services.record_answers(screening, complete_answers(), source="staff", user=nurse)
    assert "last_botulinum_toxin_date" not in screening.evaluated_facts["request"]["history"]


def test_red_flags_inr_and_risk_factors_reach_the_rules(screening, patient, nurse, procedure_day):
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="immunosuppression")
    answers = complete_answers() | {
        "red_flags": ["fracture"],
        "inr": {"value": 3.4, "date": (timezone.localdate() - timedelta(days=1)).isoformat()},
    }
    with acting_as(nurse):
        screening = services.record_answers(screening, answers, source="staff", user=nurse)
    rules = _rules(screening)
    assert ("SCR-RED-FLAG", "defer") in rules
    assert ("SCR-IMMUNOSUPPRESSION", "review") in rules
    assert ("SCR-INR-ABOVE-RANGE", "review") in rules
    assert ("SCR-DEEP-SITE-BLEEDING", "review") in rules  # lumbar plan: quadratus lumborum, gluteus medius
    assert screening.status == "defer"


def test_an_unknown_red_flag_answer_is_refused(screening, nurse):
    with acting_as(nurse), pytest.raises(RuleInputError, match="red_flags"):
        services.record_answers(screening, {"red_flags": ["cancer"]}, source="staff", user=nurse)
