"""The drug catalogue: which injectates the clinic uses and what they are called.

Other apps (patients' allergy and medication lists, screening, procedure notes)
store these ids, so an id never changes. Free text typed by staff or imported
from another system ("Kenalog", "xylocaine", "NS") resolves to exactly one id
through the names and synonyms kept in ``procedures/data/drugs.yaml`` (the procedures app's
data directory, beside the other clinical tables its coders review).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

_DATA_DIR = Path(__file__).resolve().parent.parent / "procedures" / "data"

LOCAL_ANESTHETIC_CLASSES = frozenset({"amide_local_anesthetic", "ester_local_anesthetic"})


@dataclass(frozen=True)
class Drug:
    id: str
    name: str
    drug_class: str
    synonyms: tuple[str, ...]
    dosing_notes: str = ""
    sources: tuple[str, ...] = ()

    @property
    def is_local_anesthetic(self) -> bool:
        return self.drug_class in LOCAL_ANESTHETIC_CLASSES


def _lookup_key(text: str) -> str:
    """Case- and spacing-insensitive key, so "0.9 % Sodium  Chloride" matches "0.9% sodium chloride"."""
    return "".join(text.casefold().split())


@dataclass(frozen=True, eq=False)
class DrugCatalog:
    drugs: dict[str, Drug]
    _by_name: dict[str, str]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.drugs)

    def get(self, drug_id: str) -> Drug:
        """The drug with this exact id; KeyError for an unknown id."""
        return self.drugs[drug_id]

    def resolve(self, name_or_synonym: str) -> Drug | None:
        """The drug whose id, name or any synonym matches, ignoring case and spaces; None if none."""
        drug_id = self._by_name.get(_lookup_key(name_or_synonym))
        return self.drugs[drug_id] if drug_id else None

    def ids_of_class(self, *drug_classes: str) -> tuple[str, ...]:
        return tuple(drug.id for drug in self.drugs.values() if drug.drug_class in drug_classes)


def build_catalog(document: dict) -> DrugCatalog:
    """Build the catalogue from a schema-valid document, refusing ambiguous names."""
    drugs: dict[str, Drug] = {}
    by_name: dict[str, str] = {}
    problems: list[str] = []
    for entry in document["drugs"]:
        drug = Drug(
            id=entry["id"],
            name=entry["name"],
            drug_class=entry["drug_class"],
            synonyms=tuple(entry["synonyms"]),
            dosing_notes=entry.get("dosing_notes", ""),
            sources=tuple(entry["sources"]),
        )
        if drug.id in drugs:
            problems.append(f"duplicate drug id {drug.id!r}")
        drugs[drug.id] = drug
        for label in (drug.id, drug.name, *drug.synonyms):
            key = _lookup_key(label)
            owner = by_name.setdefault(key, drug.id)
            if owner != drug.id:
                problems.append(f"name {label!r} of {drug.id!r} already names {owner!r}")
    if problems:
        raise DataFileError("drugs.yaml: " + "; ".join(problems))
    return DrugCatalog(drugs=drugs, _by_name=by_name)


@cache
def load_drugs() -> DrugCatalog:
    """The shipped catalogue, validated against its schema and cached for the process."""
    return build_catalog(data.load_validated_yaml(_DATA_DIR / "drugs.yaml", _DATA_DIR / "schemas" / "drugs.schema.json"))
