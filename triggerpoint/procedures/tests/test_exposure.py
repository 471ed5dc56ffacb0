"""Limits for botulinum toxins, corticosteroids and magnesium sulfate (exposure.py through the dose check).

Boundaries are tested on both sides with literal values taken from the labels and the
clinic's table (data/injectate_limits.yaml), never computed from the table under test.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from jsonschema import Draft202012Validator

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.procedures._data import DATA_DIR, load_schema
from triggerpoint.procedures.dosing import check_doses, parse_dose_request
from triggerpoint.procedures.exposure import PriorDose, load_limits

TODAY = date(2025, 6, 2)


def check(*injectates, history=(), today=TODAY):
    payload = {"weight_kg": 70, "weight_measured_on": today.isoformat(), "injectates": list(injectates)}
    return check_doses(parse_dose_request(payload), today=today, history=tuple(history))


def toxin(drug, units, per_ml=100):
    return {"drug": drug, "volume_ml": units / per_ml, "concentration_units_per_ml": per_ml}


def steroid(drug, mg, mg_per_ml=40):
    return {"drug": drug, "volume_ml": mg / mg_per_ml, "concentration_mg_per_ml": mg_per_ml}


def magnesium(mg):
    return {"drug": "magnesium_sulfate", "volume_ml": mg / 500, "concentration_mg_per_ml": 500}


def rules_of(result, severity=None):
    return [f.rule for f in result.findings if severity is None or f.severity == severity]


# --- the table -----------------------------------------------------------------------------------


def test_the_limits_table_matches_its_schema_and_covers_every_toxin_and_steroid():
    document = yaml.safe_load((DATA_DIR / "injectate_limits.yaml").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(load_schema("injectate_limits.schema.json")).iter_errors(document))
    limits = load_limits()
    drugs = load_drugs()
    assert set(limits.toxins) == set(drugs.ids_of_class("botulinum_toxin"))
    assert set(limits.steroid_equivalents) == set(drugs.ids_of_class("corticosteroid"))
    for row in limits.toxins.values():
        assert row.sources


def test_the_table_holds_the_onabotulinumtoxin_label_maximum():
    row = load_limits().toxins["onabotulinumtoxinA"]
    assert row.max_units == Decimal(400)
    assert row.window_days == 90
    assert load_limits().toxin_min_days_between_sessions == 84


# --- botulinum toxin: product maximum ------------------------------------------------------------


def test_onabotulinumtoxin_400_units_is_allowed():
    result = check(toxin("onabotulinumtoxinA", 400))
    assert result.ok
    assert "DOSE-TOXIN-MAX" not in rules_of(result)


def test_onabotulinumtoxin_over_400_units_blocks():
    result = check(toxin("onabotulinumtoxinA", 401))
    assert not result.ok and result.blocks_signing
    assert rules_of(result, "block") == ["DOSE-TOXIN-MAX"]
    shown = result.as_dict()
    assert shown["ok"] is False
    assert shown["items"][0]["total_units"] == 401
    assert shown["items"][0]["max_units"] == 400
    assert shown["items"][0]["units"] == "units"


def test_500_units_of_onabotulinumtoxin_no_longer_passes():
    result = check(toxin("Botox", 500))
    assert result.as_dict()["ok"] is False
    assert "400" in next(f.message for f in result.findings if f.rule == "DOSE-TOXIN-MAX")


def test_toxin_units_are_never_converted_between_products():
    # 600 Dysport units are within Dysport's own maximum; they are not 600 Botox units.
    result = check(toxin("abobotulinumtoxinA", 600))
    assert result.ok
    assert result.botulinum_toxin_totals_units == {"abobotulinumtoxinA": 600}
    # 300 + 300 units of two products: each within its own maximum, never added together.
    both = check(toxin("onabotulinumtoxinA", 300), toxin("incobotulinumtoxinA", 300))
    assert both.ok


@pytest.mark.parametrize(
    ("drug", "allowed", "over"),
    [("abobotulinumtoxinA", 1500, 1501), ("incobotulinumtoxinA", 400, 401), ("rimabotulinumtoxinB", 5000, 5001)],
)
def test_each_toxin_has_its_own_session_maximum(drug, allowed, over):
    assert check(toxin(drug, allowed)).ok
    assert rules_of(check(toxin(drug, over)), "block") == ["DOSE-TOXIN-MAX"]


def test_onabotulinumtoxin_given_earlier_in_the_3_month_window_counts_toward_400():
    # 100 days ago is outside the 12-week interval and inside nothing; 85 days ago is inside the 90-day window.
    earlier = [PriorDose(on=TODAY - timedelta(days=85), drug="onabotulinumtoxinA", amount=Decimal(200))]
    assert check(toxin("onabotulinumtoxinA", 200), history=earlier).ok
    over = check(toxin("onabotulinumtoxinA", 201), history=earlier)
    assert rules_of(over, "block") == ["DOSE-TOXIN-MAX"]
    finding = next(f for f in over.findings if f.rule == "DOSE-TOXIN-MAX")
    assert finding.data["earlier_units"] == 200 and finding.data["total_units"] == 401


def test_a_dose_89_days_ago_counts_and_90_days_ago_does_not():
    def with_prior(days):
        prior = [PriorDose(on=TODAY - timedelta(days=days), drug="onabotulinumtoxinA", amount=Decimal(300))]
        return check(toxin("onabotulinumtoxinA", 200), history=prior)

    assert "DOSE-TOXIN-MAX" in rules_of(with_prior(89), "block")
    assert "DOSE-TOXIN-MAX" not in rules_of(with_prior(90))
    assert "DOSE-TOXIN-MAX" not in rules_of(with_prior(91))


# --- botulinum toxin: 12-week interval -----------------------------------------------------------


def test_a_second_toxin_on_day_83_blocks():
    prior = [PriorDose(on=TODAY - timedelta(days=83), drug="onabotulinumtoxinA", amount=Decimal(50))]
    result = check(toxin("onabotulinumtoxinA", 50), history=prior)
    assert rules_of(result, "block") == ["DOSE-TOXIN-INTERVAL"]
    finding = next(f for f in result.findings if f.rule == "DOSE-TOXIN-INTERVAL")
    assert finding.data["days_since_last"] == 83
    assert "2025-06-03" in finding.message  # the earliest allowed date


def test_a_second_toxin_on_day_84_is_allowed():
    prior = [PriorDose(on=TODAY - timedelta(days=84), drug="onabotulinumtoxinA", amount=Decimal(50))]
    result = check(toxin("onabotulinumtoxinA", 50), history=prior)
    assert result.ok
    assert result.as_dict()["last_toxin_dose"] == {"date": "2025-03-10", "drug": "onabotulinumtoxinA", "units": 50}


def test_the_interval_applies_across_products_and_to_the_same_day():
    other = [PriorDose(on=TODAY - timedelta(days=30), drug="abobotulinumtoxinA", amount=Decimal(300))]
    assert rules_of(check(toxin("onabotulinumtoxinA", 20), history=other), "block") == ["DOSE-TOXIN-INTERVAL"]
    same_day = [PriorDose(on=TODAY, drug="onabotulinumtoxinA", amount=Decimal(20))]
    assert "DOSE-TOXIN-INTERVAL" in rules_of(check(toxin("onabotulinumtoxinA", 20), history=same_day), "block")


def test_an_earlier_toxin_does_not_matter_when_none_is_given_today():
    prior = [PriorDose(on=TODAY - timedelta(days=10), drug="onabotulinumtoxinA", amount=Decimal(100))]
    result = check(steroid("triamcinolone", 40), history=prior)
    assert result.ok
    assert "DOSE-TOXIN-INTERVAL" not in rules_of(result)


# --- corticosteroids -----------------------------------------------------------------------------


def test_steroids_are_totalled_in_triamcinolone_equivalent_mg():
    # dexamethasone 0.75 mg = triamcinolone 4 mg; methylprednisolone 4 mg = triamcinolone 4 mg
    result = check(
        steroid("triamcinolone", 20),
        steroid("methylprednisolone_acetate", 20),
        {"drug": "dexamethasone_sodium_phosphate", "volume_ml": 1.5, "concentration_mg_per_ml": 4},
    )
    shown = result.as_dict()
    assert shown["triamcinolone_equivalent_mg"] == 72.0  # 20 + 20 + 6 x 16/3 = 32
    by_drug = {item["drug"]: item["triamcinolone_equivalent_mg"] for item in shown["items"]}
    assert by_drug == {"triamcinolone": 20.0, "methylprednisolone_acetate": 20.0, "dexamethasone_sodium_phosphate": 32.0}
    assert result.ok


def test_a_steroid_session_exactly_at_80_mg_triamcinolone_equivalent_needs_no_review():
    result = check(steroid("triamcinolone", 80))
    assert result.ok
    assert "DOSE-STEROID-SESSION" not in rules_of(result)


def test_a_steroid_session_above_80_mg_triamcinolone_equivalent_needs_review():
    result = check(steroid("triamcinolone", 80.4))
    assert not result.ok and result.blocks_signing
    assert rules_of(result, "review") == ["DOSE-STEROID-SESSION"]


def test_400_mg_of_triamcinolone_no_longer_passes_silently():
    result = check(steroid("Kenalog", 400))
    assert result.as_dict()["ok"] is False
    assert "DOSE-STEROID-SESSION" in rules_of(result, "review")


def test_dexamethasone_over_the_cap_in_equivalents_needs_review():
    # 15 mg dexamethasone = 80 mg triamcinolone-equivalent (at the threshold); 15.1 mg is above it.
    at = check({"drug": "dexamethasone_sodium_phosphate", "volume_ml": 1.5, "concentration_mg_per_ml": 10})
    over = check({"drug": "dexamethasone_sodium_phosphate", "volume_ml": 1.51, "concentration_mg_per_ml": 10})
    assert at.ok
    assert rules_of(over, "review") == ["DOSE-STEROID-SESSION"]


def test_the_12_month_steroid_total_adds_signed_notes_from_the_last_365_days():
    history = [
        PriorDose(on=TODAY - timedelta(days=365), drug="triamcinolone", amount=Decimal(40)),
        PriorDose(on=TODAY - timedelta(days=364), drug="methylprednisolone_acetate", amount=Decimal(40)),
        PriorDose(on=TODAY - timedelta(days=30), drug="dexamethasone_sodium_phosphate", amount=Decimal(3)),
    ]
    result = check(steroid("triamcinolone", 40), history=history)
    # 365 days ago is outside the window; 364 days ago (40) and 30 days ago (3 mg dex = 16) are in.
    assert result.as_dict()["steroid_12_month_triamcinolone_equivalent_mg"] == 96.0
    finding = next(f for f in result.findings if f.rule == "DOSE-STEROID-12M")
    assert finding.severity == "info"
    assert "96 mg" in finding.message


# --- magnesium sulfate ---------------------------------------------------------------------------


def test_magnesium_total_is_reported_in_mg():
    result = check({"drug": "magnesium_sulfate", "volume_ml": 2, "concentration_percent": 20})
    shown = result.as_dict()
    assert shown["magnesium_total_mg"] == 400.0
    assert shown["items"][0]["total_mg"] == 400.0 and shown["items"][0]["max_mg"] == 1000.0
    assert result.ok
    assert [f.severity for f in result.findings if f.rule == "DOSE-MG-MAX"] == ["info"]


def test_magnesium_exactly_at_1000_mg_needs_no_review():
    result = check(magnesium(1000))
    assert result.ok
    assert [f.severity for f in result.findings if f.rule == "DOSE-MG-MAX"] == ["info"]


def test_magnesium_above_1000_mg_needs_review():
    result = check(magnesium(1000.5))
    assert not result.ok
    assert rules_of(result, "review") == ["DOSE-MG-MAX"]


def test_every_limit_rule_is_listed_in_the_response():
    listed = {row["rule"] for row in check(magnesium(100)).as_dict()["rules"]}
    assert {"DOSE-TOXIN-MAX", "DOSE-TOXIN-INTERVAL", "DOSE-STEROID-SESSION", "DOSE-STEROID-12M", "DOSE-MG-MAX"} <= listed
