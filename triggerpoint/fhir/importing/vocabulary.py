"""Received codes → our vocabularies, only through tables that carry their sources; the rest is flagged.

* **Medications → drug class.** No RxNorm → class table is added here: the RxNorm codes we could find
  for the blood thinners came only from unrelated public repositories, some of them contradicting each
  other, none from NLM (RxNav), so by the rule of `catalogues/data/standard_codes.yaml` they are not
  used as facts. The class comes instead from the ingredient *name* in the coding's display or text,
  matched against the sourced blood-thinner table (`screening/data/anticoagulants.yaml`: names, ids
  and US brand names → anticoagulant / antiplatelet) and the clinic's drug catalogue
  (`procedures/data/drugs.yaml`, e.g. corticosteroids). "Warfarin Sodium 5 MG Oral Tablet" → warfarin →
  anticoagulant. The RxNorm code is kept with the item as sent. Anything else is `other` and flagged.
* **Allergy substances** are recorded on the chart as their text (never dropped: an allergy is a safety
  fact); "recognised" means the screening's allergy matching knows the words (`screening/data/
  allergy_terms.yaml` classes and other local anesthetics, the drug catalogue) — else flagged for a
  person. A coding whose RxNorm code is a *verified* row of `catalogues/data/standard_codes.yaml` (lidocaine
  6387, triamcinolone 10759, dexamethasone 3264, methylprednisolone 6902, …) names that catalogue drug
  whatever the text says ("Xylocaine" coded RxNorm 6387 is recorded as a Lidocaine allergy, the text kept
  with the item). SNOMED CT 409137002 "No known drug allergy" (the code our own AllergyIntolerance sends,
  `fhir/mapping/allergy.py`) is the recorded answer "no known drug allergies"; other negation codes
  are kept and flagged.
* **Weight**: LOINC 29463-7 (US Core body weight); UCUM units kg, g and [lb_av] (1 lb = 0.45359237 kg
  exactly, the international avoirdupois pound, UCUM's definition of [lb_av]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from triggerpoint.catalogues import standard_codes
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.screening.content import load_allergy_vocabulary, load_blood_thinners
from triggerpoint.screening.rules_allergy_injectate import allergy_classes

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BODY_WEIGHT = "29463-7"
NO_KNOWN_ALLERGY_CODES = {(SNOMED, "409137002")}
KG_PER_UNIT = {"kg": Decimal(1), "g": Decimal("0.001"), "[lb_av]": Decimal("0.45359237")}
MIN_KG, MAX_KG = 1, 400  # Patient.weight_kg's validators
_WORD = re.compile(r"[a-z][a-z\-]+")
# Catalogue classes that are also medication classes on the chart (patients.DrugClass).
_CHART_CLASSES = {"anticoagulant", "antiplatelet", "nsaid", "corticosteroid", "antibiotic", "opioid",
                  "muscle_relaxant", "antidepressant", "anticonvulsant", "antidiabetic"}


@dataclass(frozen=True)
class Coded:
    """What was sent: the first coding (system, code), and the words a person reads."""

    system: str
    code: str
    text: str
    displays: tuple[str, ...]


def coded(concept: Any) -> Coded:
    codings = list(concept.coding or []) if concept is not None else []
    first = next((c for c in codings if c.code), codings[0] if codings else None)
    displays = tuple(c.display for c in codings if c.display)
    text = (concept.text if concept is not None else None) or (displays[0] if displays else "") or (
        first.code if first else "")
    return Coded(system=str(first.system or "") if first else "", code=str(first.code or "") if first else "",
                 text=str(text).strip(), displays=displays)


def is_no_known_allergy(concept: Any) -> bool:
    return any((c.system, c.code) in NO_KNOWN_ALLERGY_CODES for c in (concept.coding or []))


def medication_class(item: Coded) -> tuple[str | None, str]:
    """(drug class, the word that matched) from the names sent; (None, "") when nothing matched."""
    thinners, drugs = load_blood_thinners(), load_drugs()
    for name in (item.text, *item.displays):
        words = _WORD.findall(name.lower())
        candidates = [name, *(" ".join(words[:n]) for n in (2, 1)), *words]
        for candidate in candidates:
            if not candidate:
                continue
            thinner = thinners.find(candidate)
            if thinner is not None:
                return thinner.drug_class, candidate
            drug = drugs.resolve(candidate)
            if drug is not None and drug.drug_class in _CHART_CLASSES:
                return drug.drug_class, candidate
    return None, ""


def catalogue_drug_name(concept: Any) -> str | None:
    """The drug catalogue's name for a coding whose RxNorm code is a verified row of the standard-code table."""
    codes = {str(c.code) for c in (concept.coding or []) if c.system == RXNORM and c.code}
    if not codes:
        return None
    for row in standard_codes.entries("drug"):
        if row.verified and row.system == RXNORM and row.code in codes:
            drug = load_drugs().resolve(row.key)
            if drug is not None:
                return drug.name
    return None


def allergy_recognised(substance: str) -> bool:
    """Whether the screening's allergy matching knows this substance (else a person classifies it)."""
    _classes, how = allergy_classes(substance, load_allergy_vocabulary(), load_drugs())
    return how != "unmatched"


def weight_kg(value: Decimal | float | None, system: str | None, code: str | None) -> Decimal | None:
    """The weight in kg, or None for a unit that is not a UCUM mass unit we know."""
    if value is None or (system and system != UCUM) or code not in KG_PER_UNIT:
        return None
    return Decimal(str(value)) * KG_PER_UNIT[code]
