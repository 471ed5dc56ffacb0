"""Properties of dosing and coding that must hold for any input (hypothesis)."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from triggerpoint.procedures.coding import code_session
from triggerpoint.procedures.dosing import check_doses
from triggerpoint.procedures.schemas import parse_codes_request, parse_dose_request

TODAY = date(2025, 6, 2)
LOCAL_ANESTHETICS = ["lidocaine", "bupivacaine", "ropivacaine", "mepivacaine", "procaine", "chloroprocaine"]
tenths = st.integers(min_value=1, max_value=2000).map(lambda n: n / 10)


@settings(max_examples=200, deadline=None)
@given(
    weight=st.integers(min_value=300, max_value=2000).map(lambda n: n / 10),
    rows=st.lists(
        st.tuples(st.sampled_from(LOCAL_ANESTHETICS), tenths, st.sampled_from([0.25, 0.5, 1, 2])),
        min_size=1,
        max_size=5,
    ),
)
def test_ok_means_every_fraction_and_their_sum_are_at_most_one(weight, rows):
    payload = {
        "weight_kg": weight,
        "weight_measured_on": TODAY.isoformat(),
        "injectates": [{"drug": d, "volume_ml": v, "concentration_percent": p} for d, v, p in rows],
    }
    result = check_doses(parse_dose_request(payload), today=TODAY)
    fractions = [item.fraction_of_max for item in result.items]
    assert result.combined_local_anesthetic_fraction == sum(fractions, Decimal(0))
    assert result.ok == (max(fractions) <= 1 and sum(fractions) <= 1)
    assert all(item.max_mg <= 1000 for item in result.items)


@settings(max_examples=200, deadline=None)
@given(
    drug=st.sampled_from(["triamcinolone", "dexamethasone_sodium_phosphate", "methylprednisolone_acetate"]),
    dose=tenths,
)
def test_billed_units_cover_the_dose_with_less_than_one_unit_to_spare(drug, dose):
    payload = {
        "sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection"}],
        "guidance": "landmark",
        "injectates": [{"drug": drug, "dose_mg": dose}],
        "service_date": TODAY.isoformat(),
    }
    [line] = code_session(parse_codes_request(payload)).hcpcs
    unit_size = line.billed_dose / line.units
    assert line.billed_dose >= Decimal(str(dose))
    assert line.billed_dose - unit_size < Decimal(str(dose))
