"""The dose check's answer: per-drug items and the session result, rounded only for display.

Decisions use the unrounded `Decimal` values; the ``procedures/dose-check`` response rounds
mg and units to 0.1 and fractions to 3 decimals (half up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.procedures import exposure

MG_QUANTUM = Decimal("0.1")
FRACTION_QUANTUM = Decimal("0.001")


@dataclass(frozen=True)
class DoseItem:
    drug: str
    drug_class: str
    with_epinephrine: bool
    volume_ml: Decimal
    total_mg: Decimal | None
    total_units: Decimal | None
    max_mg: Decimal | None
    fraction_of_max: Decimal | None
    max_basis: str = ""
    max_units: Decimal | None = None
    triamcinolone_equivalent_mg: Decimal | None = None

    @property
    def units(self) -> str:
        """The unit this drug is dosed in: "units" for toxins, "mg" otherwise (saline: mL only)."""
        return "units" if self.total_units is not None else "mg"

    def as_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "drug_class": self.drug_class,
            "with_epinephrine": self.with_epinephrine,
            "volume_ml": _rounded(self.volume_ml, MG_QUANTUM),
            "total_mg": _rounded(self.total_mg, MG_QUANTUM),
            "total_units": _rounded(self.total_units, MG_QUANTUM),
            "max_mg": _rounded(self.max_mg, MG_QUANTUM),
            "fraction_of_max": _rounded(self.fraction_of_max, FRACTION_QUANTUM),
            "max_basis": self.max_basis,
            "units": self.units,
            "max_units": _rounded(self.max_units, MG_QUANTUM),
            "triamcinolone_equivalent_mg": _rounded(self.triamcinolone_equivalent_mg, MG_QUANTUM),
        }


@dataclass(frozen=True)
class DoseCheckResult:
    ok: bool
    blocks_signing: bool
    items: tuple[DoseItem, ...]
    combined_local_anesthetic_fraction: Decimal | None
    findings: tuple[Finding, ...]
    weight_kg: Decimal | None
    weight_measured_on: date | None
    corticosteroid_totals_mg: dict[str, Decimal] = field(default_factory=dict)
    botulinum_toxin_totals_units: dict[str, Decimal] = field(default_factory=dict)
    exposure: exposure.ExposureResult | None = None
    rules: tuple[Rule, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The ``procedures/dose-check`` response (rounded for display; decisions used unrounded values)."""
        return {
            "ok": self.ok,
            "blocks_signing": self.blocks_signing,
            "items": [item.as_dict() for item in self.items],
            "combined_local_anesthetic_fraction": _rounded(
                self.combined_local_anesthetic_fraction, FRACTION_QUANTUM
            ),
            "weight_kg": _rounded(self.weight_kg, MG_QUANTUM),
            "weight_measured_on": self.weight_measured_on.isoformat() if self.weight_measured_on else None,
            "corticosteroid_totals_mg": {
                k: _rounded(v, MG_QUANTUM) for k, v in self.corticosteroid_totals_mg.items()
            },
            "botulinum_toxin_totals_units": {
                k: _rounded(v, MG_QUANTUM) for k, v in self.botulinum_toxin_totals_units.items()
            },
            **(self.exposure.as_dict() if self.exposure else {}),
            "findings": [finding.as_dict() for finding in self.findings],
            "rules": [{"rule": rule.id, "version": rule.version} for rule in self.rules],
        }


def _rounded(value: Decimal | None, quantum: Decimal) -> float | None:
    return None if value is None else float(value.quantize(quantum, rounding=ROUND_HALF_UP))


def _display(value: Decimal, quantum: Decimal = MG_QUANTUM) -> str:
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP).normalize():f}"

