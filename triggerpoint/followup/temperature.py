"""Body temperatures in °F or °C, compared exactly.

Patients in a US clinic report both units, and the clinic's fever threshold is written in
°F ("above 101 °F"). Every comparison is therefore done in °F on exact decimals: 38.3 °C is
100.94 °F (not above 101), 38.4 °C is 101.12 °F (above). Floats would put values such as
37.5 °C a hair off their true conversion and make a boundary case depend on rounding.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FAHRENHEIT = "F"
CELSIUS = "C"

#: Spellings accepted for a unit in structured input (case-insensitive).
UNIT_SPELLINGS: dict[str, str] = {
    "f": FAHRENHEIT,
    "°f": FAHRENHEIT,
    "fahrenheit": FAHRENHEIT,
    "c": CELSIUS,
    "°c": CELSIUS,
    "celsius": CELSIUS,
}

_NINE_FIFTHS = Decimal(9) / Decimal(5)  # exactly 1.8
_THIRTY_TWO = Decimal(32)
_TENTH = Decimal("0.1")


def normalise_unit(raw: object) -> str | None:
    """'F'/'C' for an accepted spelling, None otherwise (the caller reports the problem)."""
    if not isinstance(raw, str):
        return None
    return UNIT_SPELLINGS.get(raw.strip().lower())


def to_decimal(raw: object) -> Decimal | None:
    """An exact decimal for a JSON number or numeric string; None for anything else.

    Booleans are refused (``True`` is an int in Python, not a temperature).
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def celsius_to_fahrenheit(value: Decimal) -> Decimal:
    return value * _NINE_FIFTHS + _THIRTY_TWO


def fahrenheit_to_celsius(value: Decimal) -> Decimal:
    return (value - _THIRTY_TWO) / _NINE_FIFTHS


@dataclass(frozen=True)
class Temperature:
    """A reading as the patient gave it; `fahrenheit` is the exact value rules compare."""

    value: Decimal
    unit: str  # FAHRENHEIT | CELSIUS

    @property
    def fahrenheit(self) -> Decimal:
        return self.value if self.unit == FAHRENHEIT else celsius_to_fahrenheit(self.value)

    @property
    def celsius(self) -> Decimal:
        return self.value if self.unit == CELSIUS else fahrenheit_to_celsius(self.value)

    def describe(self) -> str:
        """'102.0 °F (38.9 °C)' — the patient's unit first, the other in brackets."""
        f = format_degrees(self.fahrenheit, FAHRENHEIT)
        c = format_degrees(self.celsius, CELSIUS)
        return f"{f} ({c})" if self.unit == FAHRENHEIT else f"{c} ({f})"

    def as_dict(self) -> dict[str, object]:
        return {"value": float(self.value), "unit": self.unit}


def format_degrees(value: Decimal, unit: str) -> str:
    return f"{value.quantize(_TENTH, rounding=ROUND_HALF_UP)} °{unit}"


def is_plausible(temperature: Temperature, plausible_f: tuple[Decimal, Decimal]) -> bool:
    """True when the reading lies in the inclusive plausible body-temperature range (°F)."""
    low, high = plausible_f
    return low <= temperature.fahrenheit <= high


def describe_range(plausible_f: tuple[Decimal, Decimal]) -> str:
    low, high = plausible_f
    return (
        f"{format_degrees(low, FAHRENHEIT)}–{format_degrees(high, FAHRENHEIT)} "
        f"({format_degrees(fahrenheit_to_celsius(low), CELSIUS)}–{format_degrees(fahrenheit_to_celsius(high), CELSIUS)})"
    )
