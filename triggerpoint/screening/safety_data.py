"""The data tables behind the issue-14 screening rules: product excipients and safety thresholds.

``data/excipients.yaml`` says which inactive ingredients each catalogue drug's products carry
(always, only in multi-dose vials, or only with epinephrine) and the words an allergy may be
recorded with; ``data/safety_rules.yaml`` holds every threshold, word list and severity of the
toxin, bleeding, immunosuppression, red-flag, pneumothorax and magnesium rules. Both are
validated against their JSON Schemas and their own source keys when first loaded (and in a
test), so a bad edit fails at start-up instead of changing a finding.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.screening.content import ScreeningDataError, load_document, normalize_term

PRESENCE = ("always", "multi_dose_vial", "with_epinephrine")
VIAL_KINDS: tuple[str, ...] = ("single_dose", "multi_dose")


def normalize_allergy_word(text: str) -> str:
    """`normalize_term` plus: apostrophes and full stops dropped, British "sulph" spelled "sulf".

    So "Cow's milk", "cows milk" and "COWS-MILK" are one word, and so are "metabisulphite" and "metabisulfite".
    """
    text = normalize_term(text).replace("sulph", "sulf")
    text = re.sub(r"['’.`]", "", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Excipient:
    id: str
    name: str


@dataclass(frozen=True)
class ProductExcipient:
    """One excipient of one drug's products, and when it is present."""

    excipient: Excipient
    present: str  # always | multi_dose_vial | with_epinephrine
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ExcipientTable:
    version: int
    by_term: dict[str, Excipient]
    by_drug: dict[str, tuple[ProductExcipient, ...]]

    def excipient_named(self, allergy: str) -> Excipient | None:
        """The excipient a recorded allergy names (case, spacing, hyphen, apostrophe and spelling-insensitive)."""
        return self.by_term.get(normalize_allergy_word(allergy))

    def of_drug(self, drug_id: str) -> tuple[ProductExcipient, ...]:
        return self.by_drug.get(drug_id, ())


@cache
def load_excipients() -> ExcipientTable:
    file_name = "excipients.yaml"
    document = load_document(file_name)
    problems: list[str] = []
    defined_sources = set(document["sources"])
    excipients: dict[str, Excipient] = {}
    by_term: dict[str, Excipient] = {}
    for entry in document["excipients"]:
        if entry["id"] in excipients:
            problems.append(f"excipient {entry['id']!r} is listed twice")
        excipient = Excipient(entry["id"], entry["name"])
        excipients[entry["id"]] = excipient
        for term in entry["terms"]:
            key = normalize_allergy_word(str(term))
            owner = by_term.setdefault(key, excipient)
            if owner is not excipient:
                problems.append(f"term {term!r} of {entry['id']!r} already names {owner.id!r}")
    catalogue = load_drugs()
    by_drug: dict[str, tuple[ProductExcipient, ...]] = {}
    for product in document["products"]:
        drug_id = product["drug"]
        if catalogue.resolve(drug_id) is None or catalogue.resolve(drug_id).id != drug_id:
            problems.append(f"product {drug_id!r} is not a drug id of the catalogue")
        contents = []
        for item in product["contains"]:
            if item["excipient"] not in excipients:
                problems.append(f"product {drug_id!r}: excipient {item['excipient']!r} is not defined")
                continue
            unknown = [key for key in item["sources"] if key not in defined_sources]
            if unknown:
                problems.append(f"product {drug_id!r}: sources {unknown} are not defined under 'sources'")
            contents.append(
                ProductExcipient(
                    excipients[item["excipient"]],
                    item["present"],
                    tuple(document["sources"].get(key, key) for key in item["sources"]),
                )
            )
        by_drug[drug_id] = tuple(contents)
    if problems:
        raise ScreeningDataError(f"{file_name}: " + "; ".join(problems))
    return ExcipientTable(version=document["version"], by_term=by_term, by_drug=by_drug)


@dataclass(frozen=True)
class SafetyRules:
    """Every threshold, word list and severity of the issue-14 rules, as loaded from the data table."""

    version: int
    sources: dict[str, str]
    toxin: dict[str, Any]
    bleeding: dict[str, Any]
    immunosuppression: dict[str, Any]
    red_flags: dict[str, str]
    pneumothorax: dict[str, Any]
    magnesium: dict[str, str]
    aminoglycosides: frozenset[str]
    inr_upper_limit: Decimal
    group_sources: dict[str, tuple[str, ...]]

    def cite(self, group: str) -> tuple[str, ...]:
        """The full source texts of one group of the table ("toxin", "bleeding", ...)."""
        return self.group_sources[group]


@cache
def load_safety_rules() -> SafetyRules:
    file_name = "safety_rules.yaml"
    document = load_document(file_name)
    defined = set(document["sources"])
    problems = []
    groups = ("toxin", "bleeding", "immunosuppression", "red_flags", "pneumothorax", "magnesium")
    for group in groups:
        unknown = [key for key in document[group]["sources"] if key not in defined]
        if unknown:
            problems.append(f"{group}: sources {unknown} are not defined under 'sources'")
    if problems:
        raise ScreeningDataError(f"{file_name}: " + "; ".join(problems))
    return SafetyRules(
        version=document["version"],
        sources=dict(document["sources"]),
        toxin=dict(document["toxin"]),
        bleeding=dict(document["bleeding"]),
        immunosuppression=dict(document["immunosuppression"]),
        red_flags=dict(document["red_flags"]["conditions"]),
        pneumothorax=dict(document["pneumothorax"]),
        magnesium=dict(document["magnesium"]["conditions"]),
        aminoglycosides=frozenset(normalize_allergy_word(name) for name in document["toxin"]["aminoglycosides"]),
        inr_upper_limit=Decimal(str(document["bleeding"]["inr_upper_limit"])),
        group_sources={
            group: tuple(document["sources"][key] for key in document[group]["sources"]) for group in groups
        },
    )
