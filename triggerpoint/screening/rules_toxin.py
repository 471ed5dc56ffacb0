"""Botulinum toxin screening (issue 14): who must not get a toxin today, and why.

* **SCR-TOXIN-NMJ** — myasthenia gravis, Lambert–Eaton syndrome or ALS: the toxin acts at the
  neuromuscular junction and can bring on swallowing or breathing failure.
* **SCR-TOXIN-AMINOGLYCOSIDE** — an aminoglycoside antibiotic (gentamicin, tobramycin, …) potentiates
  the toxin's block.
* **SCR-TOXIN-PREGNANCY** — pregnancy or breast-feeding; breast-feeding never asked is its own finding.
* **SCR-TOXIN-INTERVAL** — a prior dose within 12 weeks. The last dose date is an input fact
  (``history.last_botulinum_toxin_date``, gathered by the screening service from signed notes); a
  dose 83 days before is too soon, one 84 days before is not.

Thresholds, word lists and severities: ``data/safety_rules.yaml`` (``toxin``). Each rule fires only
when a botulinum toxin is planned. Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.safety_data import load_safety_rules, normalize_allergy_word

BOTULINUM_TOXIN = "botulinum_toxin"
_TABLE = load_safety_rules()
_SOURCES = _TABLE.cite("toxin")
_CONDITION_NAMES = {
    "myasthenia_gravis": "myasthenia gravis",
    "lambert_eaton": "Lambert–Eaton myasthenic syndrome",
    "als": "amyotrophic lateral sclerosis (ALS)",
}

NMJ = Rule(
    "SCR-TOXIN-NMJ",
    1,
    "Neuromuscular junction disease with a planned botulinum toxin",
    "Botulinum toxin blocks the release of acetylcholine at the neuromuscular junction. In myasthenia gravis, "
    "Lambert–Eaton syndrome or ALS even local doses can cause severe swallowing or breathing trouble.",
    _SOURCES,
)
AMINOGLYCOSIDE = Rule(
    "SCR-TOXIN-AMINOGLYCOSIDE",
    1,
    "Aminoglycoside antibiotic with a planned botulinum toxin",
    "Aminoglycosides also impair neuromuscular transmission and can strengthen the toxin's effect.",
    _SOURCES,
)
PREGNANCY = Rule(
    "SCR-TOXIN-PREGNANCY",
    1,
    "Pregnancy or breast-feeding with a planned botulinum toxin",
    "Safety of botulinum toxin in pregnancy and breast-feeding is not established, and its use for "
    "myofascial pain is elective and off-label: wait.",
    _SOURCES,
)
INTERVAL = Rule(
    "SCR-TOXIN-INTERVAL",
    1,
    "Prior botulinum toxin dose within 12 weeks",
    "The labels advise at least 12 weeks between treatments; doses closer together add up and raise the "
    "risk of weakness, spread of effect and antibody formation.",
    _SOURCES,
)
RULES: tuple[Rule, ...] = (NMJ, AMINOGLYCOSIDE, PREGNANCY, INTERVAL)


def _toxins(ctx) -> list[str]:
    return [drug.name for drug in ctx.planned_drugs if drug.drug_class == BOTULINUM_TOXIN]


def neuromuscular_disease(ctx) -> list[Finding]:
    toxins = _toxins(ctx)
    present = sorted(ctx.inp.patient.conditions & set(_TABLE.toxin["nmj_conditions"]))
    if not toxins or not present:
        return []
    names = ", ".join(_CONDITION_NAMES.get(condition, condition.replace("_", " ")) for condition in present)
    return [
        Finding.of(
            NMJ,
            _TABLE.toxin["nmj_severity"],
            f"{names.capitalize()} recorded and {', '.join(toxins)} planned: do not give a botulinum toxin "
            "without the patient's neurologist agreeing; consider another injectate or dry needling.",
            conditions=present,
        )
    ]


def is_aminoglycoside(medication_name: str, aminoglycosides: frozenset[str] | None = None) -> bool:
    """True when the medication's name starts with an aminoglycoside ("Gentamicin 80 mg IV" counts)."""
    words = normalize_allergy_word(medication_name).split()
    names = _TABLE.aminoglycosides if aminoglycosides is None else aminoglycosides
    return bool(words) and words[0] in names


def aminoglycoside(ctx) -> list[Finding]:
    toxins = _toxins(ctx)
    if not toxins:
        return []
    found = [medication.name for medication in ctx.inp.patient.medications if is_aminoglycoside(medication.name)]
    if not found:
        return []
    return [
        Finding.of(
            AMINOGLYCOSIDE,
            _TABLE.toxin["aminoglycoside_severity"],
            f"{', '.join(found)} (aminoglycoside) with {', '.join(toxins)} planned: the antibiotic can strengthen "
            "the toxin's effect. Consider waiting until the course is finished.",
            medications=found,
        )
    ]


def pregnancy_or_breastfeeding(ctx) -> list[Finding]:
    toxins = _toxins(ctx)
    if not toxins:
        return []
    patient = ctx.inp.patient
    findings = []
    if patient.pregnant:
        findings.append(
            Finding.of(
                PREGNANCY,
                _TABLE.toxin["pregnancy_severity"],
                f"The patient is pregnant and {', '.join(toxins)} is planned: wait until after the pregnancy.",
                reason="pregnant",
            )
        )
    if patient.breastfeeding:
        findings.append(
            Finding.of(
                PREGNANCY,
                _TABLE.toxin["breastfeeding_severity"],
                f"The patient is breast-feeding and {', '.join(toxins)} is planned: wait until breast-feeding ends.",
                reason="breastfeeding",
            )
        )
    elif patient.breastfeeding is None and patient.sex != "male":
        findings.append(
            Finding.of(
                PREGNANCY,
                _TABLE.toxin["breastfeeding_not_asked_severity"],
                f"{', '.join(toxins)} planned and nobody recorded whether the patient is breast-feeding: ask.",
                reason="breastfeeding_not_asked",
            )
        )
    return findings


def dose_interval(ctx) -> list[Finding]:
    toxins = _toxins(ctx)
    last = ctx.inp.history.last_botulinum_toxin_date
    if not toxins or last is None:
        return []
    days = (ctx.inp.procedure_date - last).days
    minimum = _TABLE.toxin["min_interval_days"]
    if days >= minimum:
        return []
    return [
        Finding.of(
            INTERVAL,
            _TABLE.toxin["interval_severity"],
            f"Last botulinum toxin dose {last.isoformat()}, {days} days before the procedure; the minimum "
            f"interval is {minimum} days (12 weeks). Wait until {(last + timedelta(days=minimum)).isoformat()}.",
            last_dose=last.isoformat(),
            days_since=days,
            minimum_days=minimum,
        )
    ]


EVALUATORS: dict[str, Any] = {
    NMJ.id: neuromuscular_disease,
    AMINOGLYCOSIDE.id: aminoglycoside,
    PREGNANCY.id: pregnancy_or_breastfeeding,
    INTERVAL.id: dose_interval,
}


# --- any planned toxin: off-label use, prior authorization, consent (issue 5) ----------------------------

OFF_LABEL = Rule(
    "SCR-BOTULINUM-TOXIN",
    1,
    "Botulinum toxin planned",
    "Botulinum toxin is off-label for myofascial pain, trials are contradictory, and payers typically need "
    "prior authorization.",
    ("tpi-clinical-facts.md §2.5, §7.2", "Trigger Point Clinic issue 5"),
)


def botulinum_toxin_planned(ctx) -> list[Finding]:
    toxins = [drug.name for drug in ctx.planned_drugs if drug.drug_class == BOTULINUM_TOXIN]
    if not toxins:
        return []
    return [
        Finding.of(
            OFF_LABEL,
            "info",
            f"{', '.join(toxins)} planned: off-label for myofascial pain; check that prior authorization is in place "
            "and that the consent names its specific risks.",
        )
    ]
