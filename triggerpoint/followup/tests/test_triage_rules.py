"""Triage rules at their boundaries, both sides of each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from triggerpoint.followup.tests.helpers import checkin
from triggerpoint.followup.triage import (
    DEFAULT_THRESHOLDS,
    TriageThresholds,
    parse_triage_request,
    triage,
    triage_rules,
)


def disposition_of(payload, atlas=None, thresholds=DEFAULT_THRESHOLDS):
    return triage(parse_triage_request(payload, atlas=atlas, thresholds=thresholds), atlas, thresholds)


# ------------------------------------------------------------------ fever threshold


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (101.0, "F", "self_care"),
        (101.1, "F", "urgent"),
        (38.3, "C", "self_care"),
        (38.4, "C", "urgent"),
    ],
)
def test_it_pages_only_a_temperature_strictly_above_101_f_in_either_unit(value, unit, expected):
    result = disposition_of(checkin(temperature={"value": value, "unit": unit}))
    assert result.disposition == expected
    assert ("TRI-URG-FEVER" in result.rule_ids) == (expected == "urgent")


def test_it_uses_the_clinic_fever_threshold_when_a_clinic_overrides_it():
    stricter = TriageThresholds(fever_above_f=Decimal("100.4"))
    assert disposition_of(checkin(temperature={"value": 100.5, "unit": "F"}), thresholds=stricter).disposition == "urgent"
    assert disposition_of(checkin(temperature={"value": 100.5, "unit": "F"})).disposition == "self_care"
    assert "100.4 °F" in triage_rules(stricter)["TRI-URG-FEVER"].basis


# ------------------------------------------------------------------ 5-day and 14-day windows


@pytest.mark.parametrize(("reported_day", "expected"), [(5, "urgent"), (6, "routine")])
@pytest.mark.parametrize("symptom", ["hives", "rash", "itching"])
def test_it_pages_allergy_signs_up_to_day_5_and_reviews_them_from_day_6(symptom, reported_day, expected):
    reported_at = f"2025-03-{3 + reported_day:02d}T23:30:00-05:00"
    result = disposition_of(checkin(reported_at=reported_at, symptoms=[symptom]))
    assert result.day == reported_day
    assert result.disposition == expected


# Issue 14: local infection signs have no 5-day limit; they are paged through day 14.
@pytest.mark.parametrize(("reported_day", "expected"), [(5, "urgent"), (6, "urgent"), (7, "urgent"),
                                                        (14, "urgent"), (15, "routine")])
@pytest.mark.parametrize("symptom", ["site_redness", "site_swelling", "site_discharge", "site_pain_increasing",
                                     "pain_not_relieved"])
def test_it_pages_local_infection_signs_up_to_day_14_and_reviews_them_from_day_15(symptom, reported_day, expected):
    reported_at = f"2025-03-{3 + reported_day:02d}T23:30:00-04:00"
    result = disposition_of(checkin(reported_at=reported_at, symptoms=[symptom]))
    assert result.day == reported_day
    assert result.disposition == expected


def test_pus_on_day_7_pages_with_the_local_infection_rule_at_version_2():
    result = disposition_of(checkin(reported_at="2025-03-10T09:00:00-04:00", symptoms=["site_discharge"]))
    assert result.disposition == "urgent"
    (reason,) = result.reasons
    assert (reason.rule, reason.version) == ("TRI-URG-SITE", 2)
    assert "14 days" in reason.basis and "day 7" in reason.message


def test_pain_with_fever_keeps_the_5_day_fever_window():
    on_day_5 = checkin(reported_at="2025-03-08T09:00:00-05:00", symptoms=["fever", "site_soreness"])
    on_day_6 = checkin(reported_at="2025-03-09T09:00:00-04:00", symptoms=["fever", "site_soreness"])
    assert "TRI-URG-PAIN" in disposition_of(on_day_5).rule_ids
    assert "TRI-URG-PAIN" not in disposition_of(on_day_6).rule_ids
    assert disposition_of(on_day_6).disposition == "routine"


@pytest.mark.parametrize(("reported_at", "expected"), [("2025-03-08T09:00:00-05:00", "urgent"),
                                                       ("2025-03-09T09:00:00-05:00", "routine")])
def test_it_pages_a_measured_fever_on_day_5_but_not_on_day_6(reported_at, expected):
    assert disposition_of(checkin(reported_at=reported_at, temperature={"value": 102, "unit": "F"})).disposition == expected


def test_the_procedure_day_is_day_0():
    assert disposition_of(checkin(reported_at="2025-03-03T17:00:00-05:00")).day == 0


# ------------------------------------------------------------------ 48-hour expected-effects window


@pytest.mark.parametrize(
    ("reported_at", "expected"),
    [
        ("2025-03-05T09:00:00-05:00", "self_care"),  # exactly 48 h
        ("2025-03-05T09:01:00-05:00", "routine"),  # 48 h 1 min
    ],
)
@pytest.mark.parametrize("symptom", ["site_soreness", "site_numbness"])
def test_it_treats_soreness_and_numbness_as_expected_for_48_hours_after_a_timed_injection(symptom, reported_at, expected):
    payload = checkin(procedure_at="2025-03-03T09:00:00-05:00", reported_at=reported_at, symptoms=[symptom])
    assert disposition_of(payload).disposition == expected


@pytest.mark.parametrize(
    ("reported_at", "expected"),
    [
        ("2025-03-04T23:59:00-05:00", "self_care"),  # day 1: inside 48 h even if injected at midnight
        ("2025-03-05T00:01:00-05:00", "routine"),  # day 2: could already be past 48 h
    ],
)
def test_with_only_the_date_it_closes_the_soreness_window_at_the_earliest_possible_time(reported_at, expected):
    assert disposition_of(checkin(reported_at=reported_at, symptoms=["site_soreness"])).disposition == expected


def test_a_bruise_stays_self_care_for_the_whole_reporting_window():
    assert disposition_of(checkin(reported_at="2025-03-17T09:00:00-04:00", symptoms=["bruising"])).disposition == "self_care"
    assert disposition_of(checkin(reported_at="2025-03-18T09:00:00-04:00", symptoms=["bruising"])).disposition == "routine"


# ------------------------------------------------------------------ 2-hour toxicity window


@pytest.mark.parametrize(
    ("reported_at", "expected"),
    [("2025-03-03T11:00:00-05:00", "emergency"), ("2025-03-03T11:01:00-05:00", "routine")],
)
def test_it_calls_911_for_toxicity_signs_within_2_hours_of_a_timed_injection(reported_at, expected):
    payload = checkin(procedure_at="2025-03-03T09:00:00-05:00", reported_at=reported_at, symptoms=["metallic_taste"])
    result = disposition_of(payload)
    assert result.disposition == expected
    assert ("TRI-EMERG-LAST" in result.rule_ids) == (expected == "emergency")


@pytest.mark.parametrize(
    ("reported_at", "expected"),
    [
        ("2025-03-03T23:00:00-05:00", "emergency"),  # procedure day: the injection may have been minutes ago
        ("2025-03-04T02:00:00-05:00", "emergency"),  # 2 h after the latest possible injection time
        ("2025-03-04T02:01:00-05:00", "routine"),
    ],
)
def test_with_only_the_date_it_keeps_the_toxicity_window_open_as_long_as_possible(reported_at, expected):
    assert disposition_of(checkin(reported_at=reported_at, symptoms=["mouth_numbness"])).disposition == expected


def test_the_toxicity_instructions_mention_the_numbing_medicine():
    result = disposition_of(checkin(reported_at="2025-03-03T12:00:00-05:00", symptoms=["ringing_ears"]))
    assert "numbing medicine" in result.instructions
    assert "911" in result.instructions


# ------------------------------------------------------------------ emergencies and pneumothorax


@pytest.mark.parametrize(
    "symptom", ["trouble_breathing", "chest_pain", "sudden_weakness", "fainting", "throat_swelling", "seizure"]
)
@pytest.mark.parametrize("reported_at", ["2025-03-03T10:00:00-05:00", "2025-03-30T10:00:00-04:00"])
def test_it_calls_911_for_red_flags_on_any_day(symptom, reported_at):
    result = disposition_of(checkin(reported_at=reported_at, symptoms=[symptom]))
    assert result.disposition == "emergency"
    assert result.instructions.startswith("Call 911 now")


@pytest.mark.parametrize("symptom", ["trouble_breathing", "chest_pain"])
def test_it_names_a_collapsed_lung_after_a_site_with_pneumothorax_risk(symptom, fake_atlas):
    result = disposition_of(
        checkin(sites=[{"muscle": "upper_trapezius", "side": "left"}], symptoms=[symptom]), atlas=fake_atlas
    )
    assert "TRI-EMERG-PNEUMOTHORAX" in result.rule_ids
    assert "collapsed lung" in result.instructions


def test_it_does_not_mention_the_lung_after_a_site_without_pneumothorax_risk(fake_atlas):
    result = disposition_of(
        checkin(sites=[{"muscle": "gluteus_medius", "side": "left"}], symptoms=["chest_pain"]), atlas=fake_atlas
    )
    assert result.disposition == "emergency"
    assert "TRI-EMERG-PNEUMOTHORAX" not in result.rule_ids
    assert "collapsed lung" not in result.instructions


def test_it_does_not_mention_the_lung_for_other_red_flags_after_a_lung_risk_site(fake_atlas):
    result = disposition_of(
        checkin(sites=[{"muscle": "upper_trapezius", "side": "left"}], symptoms=["fainting"]), atlas=fake_atlas
    )
    assert "TRI-EMERG-PNEUMOTHORAX" not in result.rule_ids


def test_it_reads_pneumothorax_risk_from_the_real_atlas_catalogue():
    result = disposition_of(checkin(sites=[{"muscle": "serratus_anterior", "side": "right"}], symptoms=["chest_pain"]))
    assert "TRI-EMERG-PNEUMOTHORAX" in result.rule_ids
    result = disposition_of(checkin(sites=[{"muscle": "gastrocnemius", "side": "right"}], symptoms=["chest_pain"]))
    assert "TRI-EMERG-PNEUMOTHORAX" not in result.rule_ids


# ------------------------------------------------------------------ fever feelings, pain


def test_it_pages_a_feverish_patient_with_no_reading_and_asks_for_one():
    result = disposition_of(checkin(symptoms=["fever"]))
    assert result.disposition == "urgent"
    assert "TRI-URG-FEVER-UNMEASURED" in result.rule_ids
    assert "thermometer" in result.instructions


def test_it_reviews_a_feverish_patient_whose_reading_is_not_above_the_threshold():
    result = disposition_of(checkin(symptoms=["fever"], temperature={"value": 100.0, "unit": "F"}))
    assert result.disposition == "routine"


def test_it_pages_pain_with_fever_even_when_the_reading_is_not_above_the_threshold():
    result = disposition_of(checkin(symptoms=["fever", "site_soreness"], temperature={"value": 100.0, "unit": "F"}))
    assert result.disposition == "urgent"
    assert "TRI-URG-PAIN" in result.rule_ids


@pytest.mark.parametrize(("score", "expected"), [(6, "self_care"), (7, "routine")])
def test_a_severe_pain_score_turns_expected_soreness_into_a_review(score, expected):
    payload = checkin(reported_at="2025-03-04T09:00:00-05:00", symptoms=["site_soreness"], pain_now=score)
    assert disposition_of(payload).disposition == expected


# ------------------------------------------------------------------ reporting window, requests, self care


@pytest.mark.parametrize(("reported_at", "expected_rule"), [("2025-03-17T09:00:00-04:00", "TRI-ROUTINE-AFTER-WINDOW"),
                                                            ("2025-03-18T09:00:00-04:00", "TRI-ROUTINE-LATE-REPORT")])
def test_after_day_14_signs_are_no_longer_attributed_to_the_injection(reported_at, expected_rule):
    result = disposition_of(checkin(reported_at=reported_at, symptoms=["hives"]))
    assert result.disposition == "routine"
    assert result.rule_ids == (expected_rule,)


def test_a_patient_request_is_read_by_a_clinician():
    assert disposition_of(checkin(symptoms=["other_concern"])).disposition == "routine"


def test_self_care_instructions_carry_the_advice_for_each_reported_effect_and_the_safety_net():
    result = disposition_of(checkin(reported_at="2025-03-03T18:00:00-05:00", symptoms=["site_soreness", "bruising"]))
    assert result.disposition == "self_care"
    assert "ice pack" in result.instructions
    assert "bruise" in result.instructions
    assert "101.0 °F (38.3 °C)" in result.instructions  # threshold filled in, not a stale literal
    assert "{" not in result.instructions


def test_an_empty_check_in_is_self_care_with_no_warning_signs():
    result = disposition_of(checkin())
    assert result.disposition == "self_care"
    assert result.rule_ids == ("TRI-NO-WARNING-SIGNS",)


def test_reasons_are_listed_most_severe_first():
    result = disposition_of(checkin(reported_at="2025-03-03T18:00:00-05:00", symptoms=["site_soreness", "hives", "seizure"]))
    assert [r.severity for r in result.reasons] == ["emergency", "urgent", "self_care"]


def test_the_contract_shape_of_the_result():
    body = disposition_of(checkin(symptoms=["hives"])).as_dict()
    assert body["disposition"] == "urgent"
    assert body["reasons"][0]["rule"] == "TRI-URG-ALLERGY"
    assert body["reasons"][0]["message"]
    assert body["reasons"][0]["basis"]
    assert isinstance(body["instructions"], str) and "on-call clinician" in body["instructions"]


def test_thresholds_refuse_a_fever_threshold_outside_the_plausible_range():
    with pytest.raises(ValueError, match="fever threshold"):
        TriageThresholds(fever_above_f=Decimal("120"))
    with pytest.raises(ValueError, match="windows must satisfy"):
        TriageThresholds(urgent_window_days=20)
    with pytest.raises(ValueError, match="windows must satisfy"):
        TriageThresholds(local_infection_window_days=15)
    with pytest.raises(ValueError, match="windows must satisfy"):
        TriageThresholds(urgent_window_days=6, local_infection_window_days=5)


def test_a_longer_toxicity_window_from_a_clinic_is_honoured():
    longer = TriageThresholds(anaesthetic_reaction_window=timedelta(hours=3))
    payload = checkin(procedure_at="2025-03-03T09:00:00-05:00", reported_at="2025-03-03T11:30:00-05:00",
                      symptoms=["confusion"])
    assert disposition_of(payload, thresholds=longer).disposition == "emergency"
    assert disposition_of(payload).disposition == "routine"
