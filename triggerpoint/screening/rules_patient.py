"""The patient and the planned sites: pregnancy, widespread pain without documented trigger points,
prior vasovagal reactions and pneumothorax-risk sites.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.policy import (
    SEED_002,
    SEVERITY_RANK,
)
from triggerpoint.screening.safety_data import load_safety_rules

PREGNANCY = Rule(
    "SCR-PREGNANCY",
    1,
    "Pregnancy",
    "Pregnancy is a precaution: there is no TPI-specific guideline, most trials exclude it, and local "
    "anesthetic doses may need reducing.",
    ("clinicalgate, Trigger point injection (tpi-clinical-facts.md §3.1)", "tpi-clinical-facts.md §3.4"),
)

WIDESPREAD_PAIN = Rule(
    "SCR-WIDESPREAD-PAIN",
    1,
    "Widespread pain or fibromyalgia without documented trigger points",
    "Widespread pain such as fibromyalgia is not suited to trigger point injection until treated, and "
    "tenderness alone is not an indication; fibromyalgia tender points are not trigger points.",
    ("Medscape, Trigger point injection (tpi-clinical-facts.md §3.1)", "ACR criteria (tpi-clinical-facts.md §6.1)"),
)

PNEUMOTHORAX_SITE = Rule(
    "SCR-PNEUMOTHORAX-SITE",
    2,  # v2: landmark guidance at such a site is review (was info); smoking raises it
    "Planned site over the thorax (pneumothorax risk)",
    "Pneumothorax has followed trapezius, serratus anterior and other cervicothoracic injections; the "
    "pleura lies close under these muscles. Thin habitus, COPD and smoking raise the risk; needling by "
    "landmark alone over the chest wall (the intercostal space is an unsafe site) needs the physician's "
    "review, and ultrasound guidance has been proposed to avoid it. The risk must be named in the consent.",
    (
        "FCEP bilateral pneumothorax case (tpi-clinical-facts.md §4)",
        "Seol 2014 rhomboid depth study (tpi-clinical-facts.md §4)",
        "tpi-clinical-facts.md §3.1 patient factors",
        SEED_002,
    ),
)

VASOVAGAL = Rule(
    "SCR-VASOVAGAL",
    1,
    "Prior vasovagal reaction",
    "Vasovagal syncope is a listed complication of needling; a patient who has fainted before is treated "
    "lying down.",
    ("patientcareonline, Trigger point injections (tpi-clinical-facts.md §4)",),
)


_BY_ID = {rule.id: rule for rule in (PREGNANCY, WIDESPREAD_PAIN, PNEUMOTHORAX_SITE, VASOVAGAL,)}


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(_BY_ID[rule_id], severity, message, **data)


def pregnancy(ctx) -> list[Finding]:
    if not ctx.inp.patient.pregnant:
        return []
    return [
        _finding(
            "SCR-PREGNANCY",
            "review",
            "The patient is pregnant: the physician reviews the plan and the local anesthetic dose.",
        )
    ]


def widespread_pain(ctx) -> list[Finding]:
    present = sorted(ctx.inp.patient.conditions & ctx.policy.widespread_pain_conditions)
    if not present or ctx.inp.plan.trigger_points_documented:
        return []
    return [
        _finding(
            "SCR-WIDESPREAD-PAIN",
            "review",
            f"{', '.join(condition.replace('_', ' ') for condition in present).capitalize()} recorded and no trigger "
            "points documented for this plan: confirm taut bands with referred pain before injecting.",
            conditions=present,
        )
    ]


def pneumothorax_site(ctx) -> list[Finding]:
    patient = ctx.inp.patient
    plan = ctx.inp.plan
    risky = sorted({site.muscle for site in plan.sites if ctx.atlas.muscle(site.muscle).pneumothorax_risk})
    if not risky:
        return []
    factors = [condition.replace("_", " ") for condition in sorted(patient.conditions & ctx.policy.pneumothorax_risk_conditions)]
    if patient.bmi is not None and patient.bmi < ctx.policy.pneumothorax_low_bmi_below:
        factors.append(f"BMI {patient.bmi} (under {ctx.policy.pneumothorax_low_bmi_below})")
    names = ", ".join(ctx.atlas.muscle(muscle_id).name for muscle_id in risky)
    guidance = (
        "Ultrasound guidance is planned."
        if plan.guidance == "ultrasound"
        else "Ultrasound guidance is recommended (the plan says landmark)."
    )
    message = f"Pneumothorax risk at {names}. {guidance} Name pneumothorax in the consent."
    if factors:
        message += f" Patient factors raising the risk: {', '.join(factors)}."
    landmark = plan.guidance == "landmark"
    severity = load_safety_rules().pneumothorax["landmark_severity"] if landmark else "info"
    if factors and SEVERITY_RANK[severity] < SEVERITY_RANK["review"]:
        severity = "review"
    return [
        _finding(
            "SCR-PNEUMOTHORAX-SITE",
            severity,
            message,
            muscles=risky,
            risk_factors=factors,
        )
    ]


def vasovagal(ctx) -> list[Finding]:
    if "prior_vasovagal" not in ctx.inp.patient.conditions:
        return []
    return [
        _finding(
            "SCR-VASOVAGAL",
            "info",
            "Prior vasovagal reaction: treat the patient lying down and observe before they stand.",
        )
    ]

