"""Specification of the local anaesthetic dose check (procedures/dose-check)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from jsonschema import Draft202012Validator

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures._data import DATA_DIR, load_schema
from triggerpoint.procedures.dosing import (
    DEFAULT_DOSING_POLICY,
    DosingPolicy,
    check_doses,
    load_max_doses,
    parse_dose_request,
)

TODAY = date(2025, 6, 2)

# The adult maxima the clinic agreed on (tpi-clinical-facts.md §2.1; chloroprocaine from its FDA label):
# (drug, with_epinephrine, mg/kg, absolute cap in mg)
AGREED_MAXIMA = [
    ("lidocaine", False, Decimal("4.5"), Decimal(300)),
    ("lidocaine", True, Decimal(7), Decimal(500)),
    ("bupivacaine", False, Decimal(2), Decimal(175)),
    ("bupivacaine", True, Decimal(3), Decimal(225)),
    ("ropivacaine", False, Decimal(3), Decimal(200)),
    ("mepivacaine", False, Decimal("4.5"), Decimal(350)),
    ("mepivacaine", True, Decimal(7), Decimal(500)),
    ("procaine", False, Decimal(10), Decimal(600)),
    ("chloroprocaine", False, Decimal(11), Decimal(800)),
    ("chloroprocaine", True, Decimal(14), Decimal(1000)),
]


def check(payload, **kwargs):
    kwargs.setdefault("today", TODAY)
    return check_doses(parse_dose_request(payload), **kwargs)


def request(weight_kg=70, measured_on=TODAY, *injectates):
    payload = {"weight_kg": weight_kg, "injectates": list(injectates)}
    if measured_on is not None:
        payload["weight_measured_on"] = measured_on.isoformat()
    return payload


def la(drug, volume_ml, percent=None, mg_per_ml=None, epi=None):
    row = {"drug": drug, "volume_ml": volume_ml}
    if percent is not None:
        row["concentration_percent"] = percent
    if mg_per_ml is not None:
        row["concentration_mg_per_ml"] = mg_per_ml
    if epi is not None:
        row["with_epinephrine"] = epi
    return row


def rules_of(result):
    return [finding.rule for finding in result.findings]


# --- the table --------------------------------------------------------------------------------


def test_the_max_dose_table_matches_its_schema():
    document = yaml.safe_load((DATA_DIR / "local_anesthetic_max_doses.yaml").read_text(encoding="utf-8"))
    Draft202012Validator(load_schema("local_anesthetic_max_doses.schema.json")).validate(document)


def test_every_local_anesthetic_in_the_catalogue_has_a_plain_maximum_with_a_source():
    drugs, table = load_drugs(), load_max_doses()
    for drug_id in drugs.ids_of_class("amide_local_anesthetic", "ester_local_anesthetic"):
        row = table.row(drug_id, False)
        assert row is not None, drug_id
        assert row.sources, drug_id


@pytest.mark.parametrize(("drug", "epi", "mg_per_kg", "cap"), AGREED_MAXIMA)
def test_the_table_holds_the_agreed_maxima(drug, epi, mg_per_kg, cap):
    row = load_max_doses().row(drug, epi)
    assert (row.mg_per_kg, row.absolute_max_mg) == (mg_per_kg, cap)


# --- maxima per agent, plain and with epinephrine ----------------------------------------------


@pytest.mark.parametrize(("drug", "epi", "mg_per_kg", "cap"), AGREED_MAXIMA)
def test_a_light_patient_gets_the_weight_based_maximum(drug, epi, mg_per_kg, cap):
    result = check(request(40, TODAY, la(drug, 1, percent=1, epi=epi)))
    item = result.items[0]
    assert item.max_mg == mg_per_kg * 40
    assert item.max_mg < cap
    assert item.fraction_of_max == Decimal(10) / (mg_per_kg * 40)
    assert result.ok


@pytest.mark.parametrize(("drug", "epi", "mg_per_kg", "cap"), AGREED_MAXIMA)
def test_a_heavy_patient_is_capped_at_the_absolute_maximum(drug, epi, mg_per_kg, cap):
    result = check(request(150, TODAY, la(drug, 1, percent=1, epi=epi)))
    assert mg_per_kg * 150 > cap
    assert result.items[0].max_mg == cap


@pytest.mark.parametrize(("drug", "epi", "mg_per_kg", "cap"), AGREED_MAXIMA)
def test_a_dose_over_the_maximum_blocks_signing(drug, epi, mg_per_kg, cap):
    # 2 % (20 mg/mL): enough volume to pass the cap by 10 mg.
    volume = float((cap + 10) / 20)
    result = check(request(150, TODAY, la(drug, volume, percent=2, epi=epi)))
    assert not result.ok
    assert result.blocks_signing
    assert "DOSE-LA-MAX" in rules_of(result)


def test_epinephrine_raises_the_lidocaine_maximum():
    plain = check(request(70, TODAY, la("lidocaine", 35, percent=1)))
    with_epi = check(request(70, TODAY, la("lidocaine", 35, percent=1, epi=True)))
    assert not plain.ok
    assert with_epi.ok
    assert with_epi.items[0].max_mg == 490


@pytest.mark.parametrize(
    ("weight", "expected_max"),
    [("87.4", Decimal("174.8")), ("87.5", Decimal(175)), ("87.6", Decimal(175))],
)
def test_the_bupivacaine_cap_takes_over_exactly_where_weight_times_mg_per_kg_reaches_it(weight, expected_max):
    result = check(request(float(weight), TODAY, la("bupivacaine", 10, percent=0.25)))
    assert result.items[0].max_mg == expected_max


@pytest.mark.parametrize(
    ("weight", "expected_max"), [(59.9, Decimal("599")), (60, Decimal(600)), (60.1, Decimal(600))]
)
def test_the_procaine_cap_takes_over_exactly_where_weight_times_mg_per_kg_reaches_it(weight, expected_max):
    result = check(request(weight, TODAY, la("procaine", 1, percent=1)))
    assert result.items[0].max_mg == expected_max


def test_a_dose_exactly_at_the_maximum_is_allowed():
    result = check(request(87.5, TODAY, la("bupivacaine", 70, percent=0.25)))
    assert result.items[0].total_mg == 175
    assert result.items[0].fraction_of_max == 1
    assert result.ok


def test_a_dose_just_over_the_maximum_is_not_allowed():
    result = check(request(87.5, TODAY, la("bupivacaine", 70.1, percent=0.25)))
    assert not result.ok
    assert rules_of(result) == ["DOSE-LA-MAX"]


# --- amounts ------------------------------------------------------------------------------------


def test_one_percent_is_ten_mg_per_ml():
    by_percent = check(request(70, TODAY, la("lidocaine", 5, percent=1)))
    by_mg = check(request(70, TODAY, la("lidocaine", 5, mg_per_ml=10)))
    assert by_percent.items[0].total_mg == by_mg.items[0].total_mg == 50


def test_rows_of_the_same_drug_add_up():
    result = check(request(70, TODAY, la("lidocaine", 5, percent=1), la("Xylocaine", 5, percent=0.5)))
    assert len(result.items) == 1
    assert result.items[0].total_mg == 75
    assert result.items[0].volume_ml == 10


def test_plain_and_epinephrine_rows_of_one_drug_are_separate_items_that_share_the_combined_fraction():
    result = check(
        request(70, TODAY, la("lidocaine", 20, percent=1), la("lidocaine", 20, percent=1, epi=True))
    )
    assert [item.with_epinephrine for item in result.items] == [False, True]
    # 200/300 + 200/490 > 1 although each row alone is under its maximum
    assert result.combined_local_anesthetic_fraction == Decimal(200) / 300 + Decimal(200) / 490
    assert not result.ok
    assert rules_of(result) == ["DOSE-LA-COMBINED"]


# --- combinations -------------------------------------------------------------------------------


def test_two_local_anesthetics_each_at_half_their_maximum_are_exactly_at_the_limit():
    # 70 kg: lidocaine max 300 mg (cap), bupivacaine max 140 mg (2 mg/kg)
    result = check(request(70, TODAY, la("lidocaine", 15, percent=1), la("bupivacaine", 28, percent=0.25)))
    assert [item.fraction_of_max for item in result.items] == [Decimal("0.5"), Decimal("0.5")]
    assert result.combined_local_anesthetic_fraction == 1
    assert result.ok


def test_two_local_anesthetics_over_a_combined_fraction_of_one_block_signing():
    result = check(request(70, TODAY, la("lidocaine", 15, percent=1), la("bupivacaine", 28.1, percent=0.25)))
    assert all(item.fraction_of_max < 1 for item in result.items)
    assert result.combined_local_anesthetic_fraction > 1
    assert result.blocks_signing
    assert rules_of(result) == ["DOSE-LA-COMBINED"]


def test_a_clinic_may_set_a_stricter_combined_limit():
    payload = request(70, TODAY, la("lidocaine", 12, percent=1), la("bupivacaine", 28, percent=0.25))
    assert check(payload).ok
    strict = check(payload, policy=DosingPolicy(combined_fraction_limit=Decimal("0.8")))
    assert not strict.ok


def test_non_local_anesthetics_do_not_count_toward_the_combined_fraction():
    result = check(
        request(
            70,
            TODAY,
            la("lidocaine", 15, percent=1),
            {"drug": "saline", "volume_ml": 20},
            {"drug": "Kenalog", "volume_ml": 1, "concentration_mg_per_ml": 40},
        )
    )
    assert result.combined_local_anesthetic_fraction == Decimal("0.5")


# --- weight -------------------------------------------------------------------------------------


def test_a_weight_measured_exactly_at_the_maximum_age_is_recent_enough():
    measured = TODAY - timedelta(days=DEFAULT_DOSING_POLICY.weight_max_age_days)
    result = check(request(70, measured, la("lidocaine", 5, percent=1)))
    assert result.ok
    assert result.items[0].max_mg == 300


def test_a_weight_one_day_older_than_the_maximum_age_asks_for_a_new_weight():
    measured = TODAY - timedelta(days=DEFAULT_DOSING_POLICY.weight_max_age_days + 1)
    result = check(request(70, measured, la("lidocaine", 5, percent=1)))
    assert not result.ok
    assert rules_of(result) == ["DOSE-WEIGHT-RECENT"]
    assert result.items[0].max_mg is None
    assert result.combined_local_anesthetic_fraction is None


def test_the_weight_age_limit_is_configurable():
    measured = TODAY - timedelta(days=31)
    payload = request(70, measured, la("lidocaine", 5, percent=1))
    assert check(payload).ok
    assert not check(payload, policy=DosingPolicy(weight_max_age_days=30)).ok


def test_the_weight_date_passed_by_the_caller_overrides_the_request():
    payload = request(70, TODAY, la("lidocaine", 5, percent=1))
    result = check(payload, weight_measured_on=TODAY - timedelta(days=400))
    assert not result.ok


def test_a_missing_weight_asks_for_one_and_blocks_signing():
    result = check({"injectates": [la("lidocaine", 5, percent=1)]})
    assert not result.ok
    assert result.blocks_signing
    assert rules_of(result) == ["DOSE-WEIGHT-RECENT"]


def test_a_missing_weight_does_not_matter_without_local_anesthetic():
    result = check({"injectates": [{"drug": "triamcinolone", "volume_ml": 1, "concentration_mg_per_ml": 40}]})
    assert result.ok
    assert "DOSE-WEIGHT-RECENT" not in rules_of(result)


def test_an_undated_weight_is_taken_as_todays_and_says_so():
    result = check(request(70, None, la("lidocaine", 5, percent=1)))
    assert result.ok
    assert [(f.rule, f.severity) for f in result.findings] == [("DOSE-WEIGHT-RECENT", "info")]


def test_an_undated_weight_counts_as_missing_when_the_policy_requires_a_date():
    result = check(
        request(70, None, la("lidocaine", 5, percent=1)), policy=DosingPolicy(require_weight_date=True)
    )
    assert not result.ok


def test_a_weight_measured_after_the_check_date_is_an_input_error():
    with pytest.raises(RuleInputError):
        check(request(70, TODAY + timedelta(days=1), la("lidocaine", 5, percent=1)))


# --- rounding -----------------------------------------------------------------------------------


def test_mg_are_shown_to_one_decimal_and_fractions_to_three_rounding_half_up():
    # 0.5 % x 3.33 mL = 16.65 mg; 70 kg -> 300 mg max; 16.65/300 = 0.0555
    item = check(request(70, TODAY, la("lidocaine", 3.33, percent=0.5))).as_dict()["items"][0]
    assert item["total_mg"] == 16.7
    assert item["fraction_of_max"] == 0.056


def test_decisions_use_unrounded_values():
    # 175.07 mg against a 175 mg maximum: shown as 175.1 mg and a fraction of 1.0, but over.
    result = check(request(87.5, TODAY, la("bupivacaine", 70.028, mg_per_ml=2.5)))
    shown = result.as_dict()
    assert shown["items"][0]["fraction_of_max"] == 1.0
    assert shown["items"][0]["total_mg"] == 175.1
    assert not shown["ok"]


def test_decimal_concentrations_do_not_suffer_binary_rounding():
    # Bupivacaine at 41.4 kg: maximum 2 x 41.4 = 82.8 mg. 0.3 % x 27.6 mL is exactly 82.8 mg,
    # but binary floating point makes it 82.80000000000001 and would call it over.
    assert 0.3 * 10 * 27.6 > 2 * 41.4
    result = check(request(41.4, TODAY, la("bupivacaine", 27.6, percent=0.3)))
    assert result.items[0].total_mg == result.items[0].max_mg == Decimal("82.8")
    assert result.ok


# --- other drugs --------------------------------------------------------------------------------


def test_it_reports_corticosteroid_mg_and_toxin_units_within_their_limits():
    result = check(
        request(
            70,
            TODAY,
            {"drug": "Kenalog", "volume_ml": 1, "concentration_mg_per_ml": 40},
            {"drug": "triamcinolone", "volume_ml": 0.5, "concentration_mg_per_ml": 40},
            {"drug": "Botox", "volume_ml": 2, "concentration_units_per_ml": 50},
        )
    )
    assert result.ok
    assert result.corticosteroid_totals_mg == {"triamcinolone": 60}
    assert result.botulinum_toxin_totals_units == {"onabotulinumtoxinA": 100}
    assert {f.rule for f in result.findings} == {"DOSE-STEROID-TOTAL", "DOSE-TOXIN-TOTAL", "DOSE-STEROID-12M"}
    assert all(item.max_mg is None for item in result.items)
    assert [item.max_units for item in result.items] == [None, 400]
    assert result.combined_local_anesthetic_fraction == 0


def test_the_response_keeps_the_contract_fields():
    shown = check(request(70, TODAY, la("lidocaine", 5, percent=1))).as_dict()
    assert {"ok", "items", "combined_local_anesthetic_fraction"} <= set(shown)
    assert {"drug", "total_mg", "max_mg", "fraction_of_max"} <= set(shown["items"][0])
    assert shown["items"][0]["drug"] == "lidocaine"
    assert isinstance(shown["combined_local_anesthetic_fraction"], float)


# --- bad input (4xx) ----------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0, -70, "70", True])
def test_it_rejects_a_weight_that_is_not_a_positive_number(weight):
    with pytest.raises(RuleInputError, match="weight_kg"):
        parse_dose_request(request(weight, TODAY, la("lidocaine", 5, percent=1)))


@pytest.mark.parametrize("volume", [0, -1, None])
def test_it_rejects_a_volume_that_is_not_a_positive_number(volume):
    with pytest.raises(RuleInputError, match="volume_ml"):
        parse_dose_request(request(70, TODAY, la("lidocaine", volume, percent=1)))


def test_it_rejects_an_unknown_drug_listing_the_allowed_ones():
    with pytest.raises(RuleInputError) as error:
        parse_dose_request(request(70, TODAY, la("ketorolac", 1, percent=1)))
    assert "ketorolac" in str(error.value)
    assert "lidocaine" in str(error.value)


def test_it_rejects_a_local_anesthetic_without_a_concentration():
    with pytest.raises(RuleInputError, match="needs concentration"):
        parse_dose_request(request(70, TODAY, la("lidocaine", 5)))


def test_it_rejects_both_concentrations_at_once():
    with pytest.raises(RuleInputError, match="not both"):
        parse_dose_request(request(70, TODAY, la("lidocaine", 5, percent=1, mg_per_ml=10)))


@pytest.mark.parametrize("drug", ["ropivacaine", "procaine", "triamcinolone"])
def test_it_rejects_epinephrine_for_a_drug_without_an_epinephrine_maximum(drug):
    row = la(drug, 1, percent=1, epi=True)
    with pytest.raises(RuleInputError, match="with_epinephrine"):
        parse_dose_request(request(70, TODAY, row))


def test_it_rejects_a_toxin_without_units_per_ml():
    with pytest.raises(RuleInputError, match="units"):
        parse_dose_request(request(70, TODAY, {"drug": "Dysport", "volume_ml": 1}))


def test_it_lists_every_problem_at_once():
    with pytest.raises(RuleInputError) as error:
        parse_dose_request(
            {
                "weight_kg": -1,
                "injectates": [la("ketorolac", 1, percent=1), la("lidocaine", 0), {"durg": "x"}],
            }
        )
    assert len(error.value.problems) >= 5


def test_it_rejects_an_empty_injectate_list():
    with pytest.raises(RuleInputError, match="injectates"):
        parse_dose_request({"weight_kg": 70, "injectates": []})


def test_it_accepts_brand_names_and_stores_ids():
    parsed = parse_dose_request(request(70, TODAY, la("Marcaine", 10, percent=0.25, epi=True)))
    assert parsed.injectates[0].drug == "bupivacaine"
    assert parsed.injectates[0].with_epinephrine


def test_the_default_policy_is_a_frozen_table_a_clinic_can_replace():
    custom = replace(DEFAULT_DOSING_POLICY, weight_max_age_days=30)
    assert custom.weight_max_age_days == 30
    with pytest.raises(AttributeError):
        DEFAULT_DOSING_POLICY.weight_max_age_days = 1
