"""Procedure-day rules: fever (either unit), antibiotics, feeling unwell, no temperature taken."""

from decimal import Decimal

import pytest

from triggerpoint.screening.rules import (
    ScreeningPolicy,
    Temperature,
    celsius_to_fahrenheit,
    fahrenheit_to_celsius,
)
from triggerpoint.screening.tests.builders import payload, screen, severities_of


def with_temperature(value, unit):
    return payload(today={"temperature": {"value": value, "unit": unit}})


def test_the_baseline_is_ready():
    result = screen(payload())
    assert result.status == "ready"
    assert result.findings == ()


@pytest.mark.parametrize("value, unit", [(38.0, "C"), (38, "C"), (100.4, "F"), (39.5, "C"), (103, "F")])
def test_it_defers_when_temperature_is_at_or_above_fever(value, unit):
    result = screen(with_temperature(value, unit))
    assert severities_of(result, "SCR-FEVER-TODAY") == ["defer"]
    assert result.status == "defer"


@pytest.mark.parametrize("value, unit", [(37.9, "C"), (37.99, "C"), (100.3, "F"), (98.6, "F")])
def test_it_does_not_flag_a_temperature_just_below_fever(value, unit):
    result = screen(with_temperature(value, unit))
    assert severities_of(result, "SCR-FEVER-TODAY") == []
    assert result.status == "ready"


def test_100_4_fahrenheit_is_exactly_38_celsius():
    assert Temperature(Decimal("100.4"), "F").celsius == Decimal("38")
    assert fahrenheit_to_celsius(Decimal("100.3")) < Decimal("38")
    assert celsius_to_fahrenheit(Decimal("38.0")) == Decimal("100.4")


def test_the_fever_message_shows_the_reading_in_both_units():
    (finding,) = [f for f in screen(with_temperature(100.4, "F")).findings if f.rule == "SCR-FEVER-TODAY"]
    assert "100.4 °F" in finding.message and "38.0 °C" in finding.message


def test_a_clinic_may_set_a_different_fever_threshold():
    policy = ScreeningPolicy(fever_threshold_c=Decimal("38.3"))
    assert severities_of(screen(with_temperature(38.2, "C"), policy), "SCR-FEVER-TODAY") == []
    assert severities_of(screen(with_temperature(38.3, "C"), policy), "SCR-FEVER-TODAY") == ["defer"]


def test_it_asks_for_review_when_no_temperature_was_taken():
    body = payload()
    del body["today"]["temperature"]
    result = screen(body)
    assert severities_of(result, "SCR-FEVER-TODAY") == ["review"]
    assert result.status == "review"


def test_a_clinic_may_accept_a_missing_temperature_as_information():
    body = payload()
    del body["today"]["temperature"]
    result = screen(body, ScreeningPolicy(missing_temperature_severity="info"))
    assert severities_of(result, "SCR-FEVER-TODAY") == ["info"]
    assert result.status == "ready"


def test_it_defers_when_on_antibiotics_today():
    assert severities_of(screen(payload(today={"on_antibiotics": True})), "SCR-ANTIBIOTICS-TODAY") == ["defer"]


def test_it_defers_when_the_patient_feels_unwell_today():
    assert severities_of(screen(payload(today={"feels_unwell": True})), "SCR-UNWELL-TODAY") == ["defer"]


def test_infection_or_broken_skin_at_a_site_is_a_contraindication():
    result = screen(payload(today={"infection_at_site": True}))
    assert severities_of(result, "SCR-SITE-INFECTION") == ["contraindicated"]
    assert result.status == "contraindicated"
