"""The local anaesthetic maximum-dose table: min(mg/kg x weight, absolute cap) per drug and epinephrine status.

Data with sources (``data/local_anesthetic_max_doses.yaml``), schema-validated and checked
against the drug catalogue. Amounts are `Decimal` of the numbers as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from triggerpoint.procedures._data import DataFileError, load_validated_yaml
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs

MAX_DOSE_SOURCE = (
    "Maximum-dose table data/local_anesthetic_max_doses.yaml (tpi-clinical-facts.md §2.1; FDA labels)"
)


def as_decimal(value: int | float | Decimal) -> Decimal:
    """Decimal of the number as written (0.3 stays 0.3), so boundaries compare exactly."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class MaxDose:
    drug: str
    with_epinephrine: bool
    mg_per_kg: Decimal | None
    absolute_max_mg: Decimal
    sources: tuple[str, ...]
    note: str = ""

    def max_mg(self, weight_kg: Decimal) -> Decimal:
        if self.mg_per_kg is None:
            return self.absolute_max_mg
        return min(self.mg_per_kg * weight_kg, self.absolute_max_mg)

    def describe(self) -> str:
        epinephrine = "with epinephrine" if self.with_epinephrine else "plain"
        per_kg = f"{self.mg_per_kg} mg/kg up to " if self.mg_per_kg is not None else ""
        return f"{self.drug} {epinephrine}: {per_kg}{self.absolute_max_mg} mg"


@dataclass(frozen=True, eq=False)
class MaxDoseTable:
    rows: dict[tuple[str, bool], MaxDose]

    def row(self, drug: str, with_epinephrine: bool) -> MaxDose | None:
        return self.rows.get((drug, with_epinephrine))

    def has_epinephrine_row(self, drug: str) -> bool:
        return (drug, True) in self.rows


def build_max_dose_table(document: Mapping[str, Any], drugs: DrugCatalog) -> MaxDoseTable:
    """Build the table from a schema-valid document, checking it against the drug catalogue."""
    rows: dict[tuple[str, bool], MaxDose] = {}
    problems: list[str] = []
    for entry in document["max_doses"]:
        key = (entry["drug"], entry["with_epinephrine"])
        drug = drugs.resolve(entry["drug"])
        if drug is None or drug.id != entry["drug"]:
            problems.append(f"unknown drug id {entry['drug']!r}")
        elif not drug.is_local_anesthetic:
            problems.append(f"{entry['drug']!r} is not a local anaesthetic")
        if key in rows:
            problems.append(f"duplicate row {key}")
        mg_per_kg = entry["mg_per_kg"]
        rows[key] = MaxDose(
            drug=entry["drug"],
            with_epinephrine=entry["with_epinephrine"],
            mg_per_kg=None if mg_per_kg is None else as_decimal(mg_per_kg),
            absolute_max_mg=as_decimal(entry["absolute_max_mg"]),
            sources=tuple(entry["sources"]),
            note=entry.get("note", ""),
        )
    if problems:
        raise DataFileError("local_anesthetic_max_doses.yaml: " + "; ".join(problems))
    return MaxDoseTable(rows=rows)


@cache
def load_max_doses() -> MaxDoseTable:
    """The shipped maximum-dose table, schema-validated and cached."""
    document = load_validated_yaml(
        "local_anesthetic_max_doses.yaml", "local_anesthetic_max_doses.schema.json"
    )
    return build_max_dose_table(document, load_drugs())
