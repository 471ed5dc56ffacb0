"""The typed facts a screening is evaluated on (`ScreeningInput`) and its result.

`schemas.parse_screening_request` builds them from the `screening/evaluate` JSON contract;
the screening service builds the same contract from the chart. Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from triggerpoint.core.rules import Finding


def fahrenheit_to_celsius(value: Decimal) -> Decimal:
    return (value - 32) * 5 / 9


def celsius_to_fahrenheit(value: Decimal) -> Decimal:
    return value * 9 / 5 + 32


@dataclass(frozen=True)
class Temperature:
    """A temperature as measured, in °C or °F. Decimal, so 100.4 °F is exactly 38.0 °C."""

    value: Decimal
    unit: str  # "C" | "F"

    @property
    def celsius(self) -> Decimal:
        return self.value if self.unit == "C" else fahrenheit_to_celsius(self.value)

    def describe(self) -> str:
        """As measured first, then converted: "100.4 °F (38.0 °C)"."""
        if self.unit == "F":
            return f"{self.value} °F ({self.celsius:.1f} °C)"
        return f"{self.value} °C ({celsius_to_fahrenheit(self.value):.1f} °F)"


@dataclass(frozen=True)
class Medication:
    name: str
    drug_class: str  # one of MEDICATION_CLASSES


@dataclass(frozen=True)
class PatientFacts:
    age: int
    sex: str
    weight_kg: Decimal
    pregnant: bool
    allergies: tuple[str, ...]
    medications: tuple[Medication, ...]
    conditions: frozenset[str]
    high_bleeding_risk: bool  # marked by the physician
    bmi: Decimal | None = None
    # Never asked unless recorded: a missing status is "unknown", which keeps the screening from `ready`.
    allergy_status: str = "unknown"
    breastfeeding: bool | None = None  # None: not asked
    inr: InrReading | None = None


@dataclass(frozen=True)
class InrReading:
    """The most recent INR and the day it was taken."""

    value: Decimal
    taken_on: date


@dataclass(frozen=True)
class Event:
    """A fever, antibiotic course, illness or hospital stay before the procedure day."""

    type: str
    date: date
    end_date: date | None = None

    @property
    def last_day(self) -> date:
        return self.end_date or self.date


@dataclass(frozen=True)
class TodayFacts:
    """Facts about the procedure day. `infection_at_site` covers infection or broken skin at or near a planned site."""

    feels_unwell: bool
    on_antibiotics: bool
    infection_at_site: bool
    temperature: Temperature | None = None
    blood_glucose_mg_dl: Decimal | None = None


@dataclass(frozen=True)
class PlannedSite:
    muscle: str  # atlas muscle id
    side: str  # left | right


@dataclass(frozen=True)
class PlannedInjectate:
    drug: str  # drug catalogue id
    with_epinephrine: bool | None = None  # None: not said (excipient rules then ask to check the vial)
    vial: str | None = None  # single_dose | multi_dose | None (not said)


@dataclass(frozen=True)
class PlanFacts:
    sites: tuple[PlannedSite, ...]
    injectates: tuple[PlannedInjectate, ...]
    guidance: str  # landmark | ultrasound
    technique: str = "injection"  # injection | dry_needling
    trigger_points_documented: bool | None = None


@dataclass(frozen=True)
class HistoryFacts:
    steroid_injections_last_12_months: int | None = None
    steroid_injections_in_series: int | None = None
    last_botulinum_toxin_date: date | None = None  # the last toxin dose before the procedure; None: none on file


@dataclass(frozen=True)
class ScreeningInput:
    procedure_date: date
    patient: PatientFacts
    events: tuple[Event, ...]
    today: TodayFacts
    plan: PlanFacts
    history: HistoryFacts = field(default_factory=HistoryFacts)


@dataclass(frozen=True)
class ScreeningResult:
    status: str  # ready | review | defer | contraindicated
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        """The `screening/evaluate` contract shape (ARCHITECTURE §8)."""
        return {"status": self.status, "findings": [finding.as_dict() for finding in self.findings]}
