"""Allergy rules of issue 14: the recorded allergy status, excipient allergies, unmatched allergies.

* **SCR-ALLERGY-STATUS** — "no known drug allergies" is a recorded answer, distinct from never
  asked. A status of ``unknown`` is a ``review`` finding, so a screening is never ``ready`` while
  nobody asked; ``nkda`` is stated as an ``info`` line so the clinician sees which it was.
* **SCR-ALLERGY-EXCIPIENT** — an allergy to an inactive ingredient of a planned product (PEG 3350
  in methylprednisolone acetate, carboxymethylcellulose and polysorbate 80 in triamcinolone,
  metabisulfite with epinephrine, methylparaben in multi-dose vials, cow's-milk protein in
  abobotulinumtoxinA, human albumin in every botulinum toxin). Always present → ``contraindicated``;
  present only in a multi-dose vial or with epinephrine → ``contraindicated`` when the plan says so,
  ``review`` when the plan does not say (check the vial in hand), ``info`` when the plan rules it out.
* **SCR-ALLERGY-UNMATCHED** — an allergy that matches no drug, class word, local anaesthetic or
  excipient is listed for a person to confirm (``review``), never a silent information line.

The drug- and class-level allergy rule (SCR-ALLERGY-INJECTATE) is in ``rules_allergy_injectate.py``;
this module receives its matcher through the evaluation context (``ctx.allergy_match``, which
``rules.py`` builds from it), so it does not import ``rules.py`` (which imports this module).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.safety_data import load_excipients

ISSUE_14 = "Trigger Point Clinic issue 14 (clinical correctness, second pass)"
PRESCRIBING_INFORMATION = "US prescribing information of each product (DailyMed), listed in screening/data/excipients.yaml"

STATUS = Rule(
    "SCR-ALLERGY-STATUS",
    1,
    "Allergy status recorded",
    "An empty allergy list does not mean the patient has no allergies: someone must have asked. "
    "'No known drug allergies' is recorded as an answer; until then the screening cannot be ready.",
    ("fpnotebook, Trigger Point Injection contraindications: anesthetic allergy (tpi-clinical-facts.md §3.1)", ISSUE_14),
)
EXCIPIENT = Rule(
    "SCR-ALLERGY-EXCIPIENT",
    1,
    "Allergy to an inactive ingredient of a planned product",
    "Injectable products carry inactive ingredients that cause allergic reactions of their own: PEG 3350 "
    "and polysorbate 80 in steroid suspensions, sulfites with epinephrine, parabens in multi-dose vials, "
    "human albumin in botulinum toxins, cow's-milk protein in abobotulinumtoxinA. An allergy to one rules "
    "out every product that contains it.",
    (PRESCRIBING_INFORMATION, ISSUE_14),
)
UNMATCHED = Rule(
    "SCR-ALLERGY-UNMATCHED",
    1,
    "Allergy that matches no known drug or ingredient",
    "An allergy the software cannot match (a misspelling, a brand it does not know, a new ingredient) may "
    "still be to something in the syringe; a person must confirm it is unrelated to the plan.",
    (ISSUE_14,),
)
RULES: tuple[Rule, ...] = (STATUS, EXCIPIENT, UNMATCHED)

_CONDITION_WORDS = {
    "multi_dose_vial": ("a multi-dose vial", "vial", "multi_dose", "single_dose", "a preservative-free single-dose vial"),
    "with_epinephrine": ("the form with epinephrine", "with_epinephrine", True, False, "the plain form without epinephrine"),
}


def allergy_status(ctx) -> list[Finding]:
    status = ctx.inp.patient.allergy_status
    if status == "unknown":
        return [
            Finding.of(
                STATUS,
                "review",
                "Allergy status not recorded: nobody has recorded whether the patient has allergies. Ask, then "
                "record the allergies or 'no known drug allergies' on the chart.",
                allergy_status=status,
            )
        ]
    return []  # nkda and has_allergies are recorded answers; the pages show which


def _excipient_severity(present: str, injectate) -> tuple[str, str]:
    """(severity, how the plan settles it) for one excipient present only sometimes."""
    if present == "always":
        return "contraindicated", "every product of this drug contains it"
    described, attribute, yes, no, alternative = _CONDITION_WORDS[present]
    planned = getattr(injectate, attribute)
    if planned == yes:
        return "contraindicated", f"the plan uses {described}, which contains it"
    if planned == no:
        return "info", f"only {described} contains it and the plan uses {alternative}"
    return "review", f"only {described} contains it and the plan does not say which is used: use {alternative}"


def excipient_allergies(ctx) -> list[Finding]:
    table = load_excipients()
    findings: list[Finding] = []
    for substance in ctx.inp.patient.allergies:
        excipient = table.excipient_named(substance)
        if excipient is None:
            continue
        hits = []
        for injectate in ctx.inp.plan.injectates:
            drug = ctx.drugs.get(injectate.drug)
            for content in table.of_drug(drug.id):
                if content.excipient.id != excipient.id:
                    continue
                severity, how = _excipient_severity(content.present, injectate)
                hits.append((severity, drug, how, content))
        if not hits:
            findings.append(
                Finding.of(
                    EXCIPIENT,
                    "info",
                    f"Allergy to {substance} ({excipient.name}): none of the planned products contains it.",
                    allergy=substance,
                    excipient=excipient.id,
                )
            )
        for severity, drug, how, content in hits:
            action = {
                "contraindicated": "Do not use it; choose a product without it.",
                "review": "Check the vial in hand before drawing up.",
                "info": "Keep to that form.",
            }[severity]
            findings.append(
                Finding.of(
                    EXCIPIENT,
                    severity,
                    f"Allergy to {substance}: {drug.name} may contain {excipient.name} ({how}). {action}",
                    allergy=substance,
                    excipient=excipient.id,
                    drug=drug.id,
                    present=content.present,
                    label_sources=list(content.sources),
                )
            )
    return findings


def unmatched_allergies(ctx) -> list[Finding]:
    table = load_excipients()
    unmatched = [
        substance
        for substance in ctx.inp.patient.allergies
        if ctx.allergy_match(substance) == "unmatched" and table.excipient_named(substance) is None
    ]
    if not unmatched:
        return []
    return [
        Finding.of(
            UNMATCHED,
            "review",
            f"Allergies not matched to any drug or ingredient the clinic knows: {', '.join(unmatched)}. Confirm "
            "with the patient what each is, and that none is in a planned product (check the vial labels).",
            allergies=unmatched,
        )
    ]


EVALUATORS: dict[str, Any] = {
    STATUS.id: allergy_status,
    EXCIPIENT.id: excipient_allergies,
    UNMATCHED.id: unmatched_allergies,
}
