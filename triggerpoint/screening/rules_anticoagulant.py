"""Blood thinners and bleeding disorders: SCR-ANTICOAGULANT (continue it, unless the physician
marked high bleeding risk) and SCR-BLEEDING-DISORDER. Drug facts are in ``data/anticoagulants.yaml``.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.policy import (
    ASRA_2018,
    BLOOD_THINNER_CLASSES,
    ENDRES_2017,
    FPNOTEBOOK,
    SEED_002,
)

ANTICOAGULANT = Rule(
    "SCR-ANTICOAGULANT",
    1,
    "Blood thinner (anticoagulant or antiplatelet)",
    "Trigger point injections are not on ASRA's intermediate- or high-bleeding-risk procedure lists. In a "
    "large series, continuing blood thinners caused no attributable complication in 4,766 procedures, "
    "while stopping them was followed by 9 serious events, 2 of them deaths, in 2,296. Default: continue; "
    "holding is the physician's decision with the prescriber for high-risk patients.",
    (ASRA_2018, ENDRES_2017, SEED_002),
)

BLEEDING_DISORDER = Rule(
    "SCR-BLEEDING-DISORDER",
    1,
    "Bleeding disorder",
    "A known bleeding disorder is listed as a contraindication to trigger point injection; the physician "
    "weighs it.",
    (FPNOTEBOOK,),
)


_BY_ID = {rule.id: rule for rule in (ANTICOAGULANT, BLEEDING_DISORDER,)}


def _finding(rule_id: str, severity: str, message: str, **data: Any) -> Finding:
    return Finding.of(_BY_ID[rule_id], severity, message, **data)


def anticoagulants(ctx) -> list[Finding]:
    patient = ctx.inp.patient
    elevated = patient.high_bleeding_risk or "bleeding_disorder" in patient.conditions
    why = "the physician marked high bleeding risk" if patient.high_bleeding_risk else "a bleeding disorder is recorded"
    findings = []
    for medication in patient.medications:
        entry = ctx.blood_thinners.find(medication.name)
        if entry is None and medication.drug_class not in BLOOD_THINNER_CLASSES:
            continue
        drug_class = entry.drug_class if entry else medication.drug_class
        label = f"{entry.name if entry else medication.name} ({drug_class})"
        information = entry.information if entry else "No drug-specific information on file for this medication."
        data: dict[str, Any] = {"medication": medication.name, "drug_class": drug_class}
        if entry:
            data |= {"blood_thinner": entry.id, "drug_sources": list(entry.sources)}
        if elevated:
            reference = (
                f" ASRA interval before HIGH-risk pain procedures, for reference only: {entry.high_risk_hold_reference}."
                if entry
                else ""
            )
            message = (
                f"{label} and {why}: the physician decides, with the prescriber, whether to hold it. "
                f"{information}{reference}"
            )
            findings.append(_finding("SCR-ANTICOAGULANT", "review", message, **data))
        else:
            message = (
                f"{label}: continue it. Trigger point injections are low bleeding risk, and stopping a blood "
                f"thinner carries its own risk of clots. {information}"
            )
            findings.append(_finding("SCR-ANTICOAGULANT", "info", message, **data))
    return findings


def bleeding_disorder(ctx) -> list[Finding]:
    if "bleeding_disorder" not in ctx.inp.patient.conditions:
        return []
    return [
        _finding(
            "SCR-BLEEDING-DISORDER",
            "review",
            "Bleeding disorder recorded: the physician reviews it before the procedure.",
        )
    ]

