"""Conditions that must change a screening (issue 14): immunosuppression, red flags, magnesium cautions,
and the bilateral chest-wall check.

* **SCR-IMMUNOSUPPRESSION** — immunosuppression (recorded condition, or an immunosuppressant on the
  medication list) raises the risk of injection-site infection; more so with a corticosteroid.
* **SCR-RED-FLAG** — suspected malignancy, a new neurological deficit or a fracture (``defer``: the
  pain may not be myofascial); recent trauma or surgery at the site (``review``).
* **SCR-MAGNESIUM-CAUTION** — magnesium sulfate planned with heart block (label contraindication),
  kidney impairment (magnesium is cleared by the kidneys) or myasthenia (it deepens the block).
* **SCR-PNEUMOTHORAX-BILATERAL** — sites over the chest wall or lung apex on both sides in one
  session: a pneumothorax on each side at once is far more dangerous than one.

Severities and lists: ``data/safety_rules.yaml``. Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.policy import SEVERITY_RANK
from triggerpoint.screening.safety_data import load_safety_rules

MAGNESIUM = "magnesium"
_TABLE = load_safety_rules()

_WORDS = {
    "suspected_malignancy": "suspected malignancy",
    "new_neurological_deficit": "a new neurological deficit",
    "fracture": "a fracture (known or suspected)",
    "recent_trauma_at_site": "recent trauma at the site",
    "recent_surgery_at_site": "recent surgery at the site",
    "heart_block": "heart block",
    "kidney_impairment": "kidney impairment",
    "myasthenia_gravis": "myasthenia gravis",
    "lambert_eaton": "Lambert–Eaton syndrome",
}

IMMUNOSUPPRESSION = Rule(
    "SCR-IMMUNOSUPPRESSION",
    1,
    "Immunosuppression",
    "An immunosuppressed patient fights infection less well, so a needle can seed an abscess or cellulitis "
    "more easily; a corticosteroid suppresses immunity further at the site.",
    _TABLE.cite("immunosuppression"),
)
RED_FLAG = Rule(
    "SCR-RED-FLAG",
    1,
    "Red flag in the history",
    "Suspected malignancy, a new neurological deficit or a fracture suggest the pain is not myofascial and "
    "must be investigated first; recent trauma or surgery at the site changes the anatomy and the infection "
    "and bleeding risk.",
    _TABLE.cite("red_flags"),
)
MAGNESIUM_CAUTION = Rule(
    "SCR-MAGNESIUM-CAUTION",
    1,
    "Magnesium sulfate with heart block, kidney impairment or myasthenia",
    "Magnesium sulfate is contraindicated in heart block, accumulates when the kidneys clear it poorly, and "
    "deepens neuromuscular block in myasthenia.",
    _TABLE.cite("magnesium"),
)
PNEUMOTHORAX_BILATERAL = Rule(
    "SCR-PNEUMOTHORAX-BILATERAL",
    1,
    "Chest-wall sites on both sides in one session",
    "Bilateral pneumothoraces have followed trigger point injections on both sides in one session; a "
    "collapsed lung on each side at once can be life-threatening. Consider treating one side per visit.",
    _TABLE.cite("pneumothorax"),
)
RULES: tuple[Rule, ...] = (IMMUNOSUPPRESSION, RED_FLAG, MAGNESIUM_CAUTION, PNEUMOTHORAX_BILATERAL)


def immunosuppression(ctx) -> list[Finding]:
    table = _TABLE.immunosuppression
    patient = ctx.inp.patient
    reasons = [c.replace("_", " ") for c in sorted(patient.conditions & set(table["conditions"]))]
    reasons += [m.name for m in patient.medications if m.drug_class in table["medication_classes"]]
    if not reasons:
        return []
    steroid = " A corticosteroid is planned: consider leaving it out." if ctx.steroid_planned else ""
    return [
        Finding.of(
            IMMUNOSUPPRESSION,
            table["severity"],
            f"Immunosuppressed ({', '.join(reasons)}): higher risk of infection at the injection site. Use strict "
            f"aseptic technique and tell the patient which signs of infection to report.{steroid}",
            reasons=reasons,
            steroid_planned=ctx.steroid_planned,
        )
    ]


def red_flags(ctx) -> list[Finding]:
    present = sorted(ctx.inp.patient.conditions & set(_TABLE.red_flags))
    findings = []
    for condition in present:
        severity = _TABLE.red_flags[condition]
        action = (
            "Defer the injection until it has been assessed."
            if SEVERITY_RANK[severity] >= SEVERITY_RANK["defer"]
            else "The physician checks the site before injecting."
        )
        findings.append(
            Finding.of(
                RED_FLAG,
                severity,
                f"Red flag recorded: {_WORDS.get(condition, condition)}. {action}",
                red_flag=condition,
            )
        )
    return findings


def magnesium_cautions(ctx) -> list[Finding]:
    if not any(drug.drug_class == MAGNESIUM for drug in ctx.planned_drugs):
        return []
    present = sorted(ctx.inp.patient.conditions & set(_TABLE.magnesium))
    return [
        Finding.of(
            MAGNESIUM_CAUTION,
            _TABLE.magnesium[condition],
            f"Magnesium sulfate planned and {_WORDS.get(condition, condition)} recorded: "
            + (
                "do not give magnesium (label contraindication); choose another injectate."
                if _TABLE.magnesium[condition] == "contraindicated"
                else "the physician reviews the dose or chooses another injectate."
            ),
            condition=condition,
        )
        for condition in present
    ]


def pneumothorax_bilateral(ctx) -> list[Finding]:
    sides_by_risk_muscle: dict[str, set[str]] = {}
    for site in ctx.inp.plan.sites:
        if ctx.atlas.muscle(site.muscle).pneumothorax_risk:
            sides_by_risk_muscle.setdefault(site.muscle, set()).add(site.side)
    sides = set().union(*sides_by_risk_muscle.values()) if sides_by_risk_muscle else set()
    if sides != {"left", "right"}:
        return []
    names = ", ".join(ctx.atlas.muscle(m).name for m in sorted(sides_by_risk_muscle))
    return [
        Finding.of(
            PNEUMOTHORAX_BILATERAL,
            _TABLE.pneumothorax["bilateral_severity"],
            f"Chest-wall or lung-apex sites on both sides in one session ({names}): a pneumothorax on both sides "
            "at once is dangerous. Consider treating one side today and the other at a later visit.",
            muscles=sorted(sides_by_risk_muscle),
        )
    ]


EVALUATORS: dict[str, Any] = {
    IMMUNOSUPPRESSION.id: immunosuppression,
    RED_FLAG.id: red_flags,
    MAGNESIUM_CAUTION.id: magnesium_cautions,
    PNEUMOTHORAX_BILATERAL.id: pneumothorax_bilateral,
}
