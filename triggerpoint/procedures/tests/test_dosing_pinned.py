"""Literal pins for the local anaesthetic dose check (mutation testing found these unpinned).

Every expected value is written out by hand (mg, days, words): a test that computed its expectation from the
setting under test would pass whatever that setting says.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.data import DataFileError
from triggerpoint.procedures.dosing import build_max_dose_table, check_doses, parse_dose_request

TODAY = date(2025, 6, 2)


def _row(drug="lidocaine", epi=False, mg_per_kg=4.5, cap=300):
    return {"drug": drug, "with_epinephrine": epi, "mg_per_kg": mg_per_kg, "absolute_max_mg": cap,
            "sources": ["test"]}


def _check(weight_kg, measured_on, *injectates):
    payload = {"weight_kg": weight_kg, "weight_measured_on": measured_on.isoformat(), "injectates": list(injectates)}
    return check_doses(parse_dose_request(payload), today=TODAY)


def _lidocaine(volume_ml, percent=1):
    return {"drug": "lidocaine", "volume_ml": volume_ml, "concentration_percent": percent}


def test_a_second_row_for_the_same_drug_is_refused_not_silently_used():
    # A second "lidocaine, plain" row at 7 mg/kg must not quietly replace the 4.5 mg/kg one.
    document = {"max_doses": [_row(mg_per_kg=4.5), _row(mg_per_kg=7, cap=500)]}
    with pytest.raises(DataFileError, match=r"duplicate row \('lidocaine', False\)"):
        build_max_dose_table(document, load_drugs())


def test_plain_and_epinephrine_rows_of_one_drug_are_not_duplicates():
    table = build_max_dose_table({"max_doses": [_row(), _row(epi=True, mg_per_kg=7, cap=500)]}, load_drugs())
    assert table.row("lidocaine", False).mg_per_kg == Decimal("4.5")
    assert table.row("lidocaine", True).mg_per_kg == Decimal(7)


def test_an_unknown_drug_and_a_drug_that_is_not_a_local_anaesthetic_are_refused_together():
    document = {"max_doses": [_row(drug="no-such-drug"), _row(drug="triamcinolone")]}
    with pytest.raises(DataFileError) as error:
        build_max_dose_table(document, load_drugs())
    assert "unknown drug id 'no-such-drug'" in str(error.value)
    assert "'triamcinolone' is not a local anaesthetic" in str(error.value)


def test_a_weight_90_days_old_is_recent_enough_and_91_days_is_not():
    # The default limit is 90 days, written here as a literal (2025-03-04 is 90 days before 2025-06-02).
    assert _check(70, date(2025, 3, 4), _lidocaine(5)).ok
    stale = _check(70, date(2025, 3, 3), _lidocaine(5))
    assert not stale.ok
    (finding,) = stale.findings
    assert finding.rule == "DOSE-WEIGHT-RECENT"
    assert finding.message == (
        "The weight was measured 91 days ago (limit 90): weigh the patient again to check the local anaesthetic dose."
    )


def test_the_maximum_is_explained_with_the_weight_and_what_limits_it():
    item = _check(50, TODAY, _lidocaine(5)).items[0]
    assert item.max_mg == Decimal(225)
    assert item.max_basis == "lidocaine plain: 4.5 mg/kg up to 300 mg; 4.5 mg/kg x 50 kg = 225 mg; limited by weight"


def test_a_heavy_patients_maximum_says_the_absolute_cap_limits_it():
    item = _check(80, TODAY, _lidocaine(5)).items[0]
    assert item.max_mg == Decimal(300)
    assert item.max_basis == (
        "lidocaine plain: 4.5 mg/kg up to 300 mg; 4.5 mg/kg x 80 kg = 360 mg; limited by absolute cap"
    )


def test_where_weight_times_mg_per_kg_equals_the_cap_the_weight_is_named_as_the_limit():
    # bupivacaine plain: 2 mg/kg up to 175 mg; 87.5 kg x 2 = 175 exactly.
    bupivacaine = {"drug": "bupivacaine", "volume_ml": 10, "concentration_percent": 0.25}
    item = _check(Decimal("87.5"), TODAY, bupivacaine).items[0]
    assert item.max_mg == Decimal(175)
    assert item.max_basis == "bupivacaine plain: 2 mg/kg up to 175 mg; 2 mg/kg x 87.5 kg = 175 mg; limited by weight"


def test_the_overdose_message_names_the_total_the_maximum_and_its_basis():
    result = _check(50, TODAY, _lidocaine(23))  # 230 mg against 225 mg
    (finding,) = result.findings
    assert finding.rule == "DOSE-LA-MAX"
    assert finding.severity == "block"
    assert finding.message == (
        "Lidocaine 230 mg is over its maximum of 225 mg (lidocaine plain: 4.5 mg/kg up to 300 mg; "
        "4.5 mg/kg x 50 kg = 225 mg; limited by weight)."
    )
    assert finding.data == {"drug": "lidocaine", "total_mg": 230.0, "max_mg": 225.0}
