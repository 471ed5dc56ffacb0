"""Literal pins for the temperature conversions and wording (mutation testing found them unpinned).

A patient or clinician reads these strings in triage and screening messages; a unit swapped or a
bracket in the wrong place ("100.4 °C (212.7 °F)") would misstate a fever. Expected values are
written out by hand, never computed with the module under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from triggerpoint.followup.temperature import (
    CELSIUS,
    FAHRENHEIT,
    Temperature,
    describe_range,
    format_degrees,
    to_decimal,
)


def test_a_fahrenheit_reading_is_described_in_fahrenheit_first():
    assert Temperature(Decimal("100.4"), FAHRENHEIT).describe() == "100.4 °F (38.0 °C)"


def test_a_celsius_reading_is_described_in_celsius_first():
    assert Temperature(Decimal("38.4"), CELSIUS).describe() == "38.4 °C (101.1 °F)"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("101.05"), "F", "101.1 °F"),  # half rounds up, not to even
        (Decimal("38.25"), "C", "38.3 °C"),
        (Decimal("101.04"), "F", "101.0 °F"),
    ],
)
def test_degrees_are_rounded_half_up_to_one_decimal_with_the_unit(value, unit, expected):
    assert format_degrees(value, unit) == expected


def test_the_plausible_range_is_worded_in_both_units():
    assert describe_range((Decimal("90"), Decimal("110"))) == "90.0 °F–110.0 °F (32.2 °C–43.3 °C)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  99.5 ", Decimal("99.5")),
        (38, Decimal("38")),
        (37.5, Decimal("37.5")),
        (Decimal("101"), Decimal("101")),
    ],
)
def test_numbers_and_numeric_strings_become_exact_decimals(raw, expected):
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", [True, False, None, [], "warm", "NaN", "Infinity", "-inf"])
def test_anything_else_is_not_a_temperature(raw):
    assert to_decimal(raw) is None


def test_a_reading_as_stored_keeps_the_patients_value_and_unit():
    assert Temperature(Decimal("38.4"), CELSIUS).as_dict() == {"value": 38.4, "unit": "C"}
    assert Temperature(Decimal("101"), FAHRENHEIT).as_dict() == {"value": 101.0, "unit": "F"}


class _LooksLikeANumber:
    def __str__(self) -> str:
        return "38.5"


def test_an_object_that_only_prints_like_a_number_is_refused():
    # Only JSON numbers, numeric strings and Decimals are readings; the type is checked, not just the text.
    assert to_decimal(_LooksLikeANumber()) is None
