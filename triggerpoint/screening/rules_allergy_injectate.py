"""Allergy to a planned injectate (SCR-ALLERGY-INJECTATE): how a recorded allergy matches the
catalogue, and which options remain.

Allergy matching, in order: a class word ("amide anesthetics", "steroids", "botox"); a drug
of the catalogue by id, name or synonym; a local anesthetic the clinic does not stock
(``data/allergy_terms.yaml``); then any other single word ending in "-caine" is taken as a
local anesthetic of unknown class, which the clinician must identify (``review``).
Cross-reactivity is by class: an allergy to one amide counts against every amide.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.catalogues.drugs import LOCAL_ANESTHETIC_CLASSES, DrugCatalog
from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.content import AllergyVocabulary, normalize_term
from triggerpoint.screening.policy import (
    FPNOTEBOOK,
    SALINE,
)

ALLERGY_INJECTATE = Rule(
    "SCR-ALLERGY-INJECTATE",
    2,  # v2: unmatched allergies moved to SCR-ALLERGY-UNMATCHED (review, was an info line here)
    "Allergy to a planned injectate",
    "An allergy to a planned drug, or to another drug of the same class (amide local anesthetics, ester "
    "local anesthetics, corticosteroids, botulinum toxins), rules that drug out; saline or dry needling "
    "need no drug of those classes.",
    (FPNOTEBOOK, "Roldan 2020, saline non-inferior (tpi-clinical-facts.md §2.5)"),
)


_BY_ID = {rule.id: rule for rule in (ALLERGY_INJECTATE,)}


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(_BY_ID[rule_id], severity, message, **data)


def allergy_classes(substance: str, vocabulary: AllergyVocabulary, drugs: DrugCatalog) -> tuple[frozenset[str], str]:
    """The injectate classes a recorded allergy counts against, and how it was matched.

    How: ``class_word`` | ``catalogue`` | ``other_local_anesthetic`` | ``unknown_caine`` | ``unmatched``.
    An unknown "-caine" returns both local-anesthetic classes (its class is not known).
    """
    term = normalize_term(substance)
    if term in vocabulary.class_terms:
        return vocabulary.class_terms[term], "class_word"
    drug = drugs.resolve(substance)
    if drug is not None:
        return frozenset({drug.drug_class}), "catalogue"
    if term in vocabulary.other_local_anesthetics:
        return frozenset({vocabulary.other_local_anesthetics[term]}), "other_local_anesthetic"
    if " " not in term and term.endswith(vocabulary.unknown_caine_suffix):
        return frozenset(LOCAL_ANESTHETIC_CLASSES), "unknown_caine"
    return frozenset(), "unmatched"


def remaining_alternatives(allergic_classes: frozenset[str], drugs: DrugCatalog) -> tuple[str, ...]:
    """Techniques and injectate classes an allergic patient can still have: saline, dry needling, another class."""
    options: list[str] = []
    if SALINE not in allergic_classes and drugs.ids_of_class(SALINE):
        options.append("saline injection")
    options.append("dry needling")
    for drug_class in sorted(LOCAL_ANESTHETIC_CLASSES - allergic_classes):
        names = ", ".join(drugs.get(drug_id).name for drug_id in drugs.ids_of_class(drug_class))
        if names:
            options.append(f"{drug_class.replace('_', ' ')} ({names})")
    return tuple(options)


def allergies(ctx) -> list[Finding]:
    matched: list[tuple[str, frozenset[str], str]] = []
    for substance in ctx.inp.patient.allergies:
        classes, how = allergy_classes(substance, ctx.allergy_words, ctx.drugs)
        matched.append((substance, classes, how))
    certain_classes = frozenset().union(*(classes for _, classes, how in matched if how != "unknown_caine"))
    unknown_caines = [substance for substance, _, how in matched if how == "unknown_caine"]
    alternatives = remaining_alternatives(certain_classes | (LOCAL_ANESTHETIC_CLASSES if unknown_caines else frozenset()), ctx.drugs)

    findings = []
    for drug in ctx.planned_drugs:
        culprits = [substance for substance, classes, how in matched if how != "unknown_caine" and drug.drug_class in classes]
        if not culprits:
            continue
        same_drug = any(ctx.drugs.resolve(substance) == drug for substance in culprits)
        reason = "the same drug" if same_drug else f"the same class ({drug.drug_class.replace('_', ' ')}; cross-reactivity)"
        findings.append(
            _finding(
                "SCR-ALLERGY-INJECTATE",
                "contraindicated",
                f"Allergy recorded to {', '.join(culprits)}: planned {drug.name} is {reason}. Do not use it. "
                f"Options that remain: {'; '.join(alternatives)}.",
                drug=drug.id,
                allergies=culprits,
                alternatives=list(alternatives),
            )
        )
    if unknown_caines:
        planned_anesthetics = [drug.name for drug in ctx.planned_drugs if drug.drug_class in LOCAL_ANESTHETIC_CLASSES]
        severity = "review" if planned_anesthetics else "info"
        planned = f" Planned: {', '.join(planned_anesthetics)}." if planned_anesthetics else ""
        findings.append(
            _finding(
                "SCR-ALLERGY-INJECTATE",
                severity,
                f"Allergy recorded to {', '.join(unknown_caines)}, a local anesthetic whose class (amide or ester) "
                f"is not on file: identify it before any local anesthetic is given.{planned}",
                allergies=unknown_caines,
            )
        )
    # Allergies matching nothing here are SCR-ALLERGY-UNMATCHED (review), or an excipient (rules_allergy).
    return findings

