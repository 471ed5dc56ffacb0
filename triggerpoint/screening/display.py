"""Screening data in the words the pages show: muscle and drug names, answers as sentences."""

from __future__ import annotations

from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs

EVENT_WORDS = {
    "fever": "Fever",
    "antibiotics": "Antibiotics",
    "illness": "Illness",
    "hospitalization": "Hospital stay",
}
SEVERITY_WORDS = {
    "info": "Info",
    "review": "Review",
    "defer": "Defer",
    "contraindicated": "Contraindicated",
}


def plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    atlas = load_atlas()
    drugs = load_drugs()
    sites = []
    for site in plan.get("sites", []):
        muscle = atlas.muscles.get(site.get("muscle"))
        sites.append(
            {
                "muscle": muscle.name if muscle else site.get("muscle"),
                "side": site.get("side", ""),
                "pneumothorax_risk": bool(muscle and muscle.pneumothorax_risk),
                "ultrasound_advised": bool(muscle and muscle.ultrasound_advised),
            }
        )
    injectates = []
    for injectate in plan.get("injectates", []):
        drug = drugs.resolve(injectate.get("drug", ""))
        form = []
        if injectate.get("with_epinephrine") is not None:
            form.append("with epinephrine" if injectate["with_epinephrine"] else "plain")
        if injectate.get("vial"):
            form.append(injectate["vial"].replace("_", "-") + " vial")
        injectates.append(
            {"name": drug.name if drug else injectate.get("drug"), "drug_class": drug.drug_class.replace("_", " ") if drug else "",
             "form": ", ".join(form)}
        )
    return {
        "sites": sites,
        "injectates": injectates,
        "guidance": plan.get("guidance", ""),
        "technique": (plan.get("technique") or "injection").replace("_", " "),
        "trigger_points_documented": plan.get("trigger_points_documented"),
        "any_pneumothorax_risk": any(site["pneumothorax_risk"] for site in sites),
    }


def _yes_no(value: Any) -> str:
    if value is None:
        return "not answered"
    return "yes" if value else "no"


def answer_lines(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """The stored answers as (question, answer) rows for the clinician."""
    rows: list[tuple[str, str]] = []
    if "events" in answers:
        if not answers["events"]:
            rows.append(("Fever, antibiotics, illness or hospital stay in the window", "none reported"))
        for event in answers["events"]:
            when = event["date"] + (f" to {event['end_date']}" if event.get("end_date") else "")
            rows.append((EVENT_WORDS.get(event["type"], event["type"]), when))
    else:
        rows.append(("Recent fever, antibiotics, illness, hospital stay", "not answered"))
    today = answers.get("today", {})
    rows.append(("Feels unwell today", _yes_no(today.get("feels_unwell"))))
    rows.append(("On antibiotics today", _yes_no(today.get("on_antibiotics"))))
    rows.append(("Infection or broken skin at a planned site", _yes_no(today.get("infection_at_site"))))
    temperature = today.get("temperature")
    rows.append(("Temperature today", f"{temperature['value']} °{temperature['unit']}" if temperature else "not measured"))
    if "blood_glucose_mg_dl" in today:
        rows.append(("Blood glucose today", f"{today['blood_glucose_mg_dl']} mg/dL"))
    if "pregnant" in answers:
        rows.append(("Pregnant or could be", {"yes": "yes", "no": "no", "unsure": "not sure"}[answers["pregnant"]]))
    if "breastfeeding" in answers:
        rows.append(("Breast-feeding", answers["breastfeeding"]))
    if "inr" in answers:
        rows.append(("Most recent INR", f"{answers['inr']['value']} on {answers['inr']['date']}"))
    if answers.get("red_flags"):
        rows.append(("Red flags", ", ".join(flag.replace("_", " ") for flag in answers["red_flags"])))
    if "prior_vasovagal" in answers:
        rows.append(("Fainted with needles before", _yes_no(answers["prior_vasovagal"])))
    if answers.get("steroid_injections_elsewhere_12m") is not None:
        rows.append(("Steroid injections elsewhere, 12 months", str(answers["steroid_injections_elsewhere_12m"])))
    for key, label in (("new_medications", "New medications"), ("new_allergies", "New allergies"), ("notes", "Notes")):
        if answers.get(key):
            rows.append((label, answers[key]))
    return rows
