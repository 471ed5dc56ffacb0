"""Properties over many inputs: the fever rule agrees across units, the window is exactly 28 days."""

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from triggerpoint.screening.rules import celsius_to_fahrenheit
from triggerpoint.screening.tests.builders import PROCEDURE_DATE, payload, screen, severities_of

TENTHS_C = st.integers(min_value=350, max_value=420).map(lambda tenths: Decimal(tenths) / 10)


@settings(max_examples=60, deadline=None)
@given(TENTHS_C)
def test_fever_today_is_the_same_decision_in_either_unit(celsius):
    fahrenheit = celsius_to_fahrenheit(celsius)
    in_c = severities_of(screen(payload(today={"temperature": {"value": float(celsius), "unit": "C"}})), "SCR-FEVER-TODAY")
    in_f = severities_of(screen(payload(today={"temperature": {"value": float(fahrenheit), "unit": "F"}})), "SCR-FEVER-TODAY")
    assert in_c == in_f == (["defer"] if celsius >= Decimal("38.0") else [])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=120), st.integers(min_value=0, max_value=60))
def test_an_event_counts_exactly_when_it_overlaps_the_28_days_before(start_days_before, length):
    start = PROCEDURE_DATE - timedelta(days=start_days_before)
    end = start + timedelta(days=length)
    body = payload(events=[{"type": "illness", "date": start.isoformat(), "end_date": end.isoformat()}])
    counted = severities_of(screen(body), "SCR-RECENT-ILLNESS") == ["review"]
    assert counted == (end >= PROCEDURE_DATE - timedelta(days=28))
