"""Visit codes turned into words, one place for the page, the summary, the PDFs and the patient version.

So `upper_trapezius:right` reads "Upper trapezius, right" wherever a visit is shown
(`visit_editor` assembles the editor, `summaries` the signed record).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triggerpoint.assessment.options import load_history_options
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.rules import RuleInputError

SCORE_ROWS = (
    ("nrs_now", "nrs_pain", "now", "Pain right now"),
    ("nrs_average", "nrs_pain", "average", "Average pain, past 7 days"),
    ("nrs_worst", "nrs_pain", "worst", "Worst pain, past 7 days"),
    ("peg_pain", "peg3", "pain", "PEG · average pain, past week"),
    ("peg_enjoyment", "peg3", "enjoyment", "PEG · interference with enjoyment of life"),
    ("peg_activity", "peg3", "activity", "PEG · interference with general activity"),
)
SEVERITY_LABELS = {
    "fatigue": "Fatigue",
    "waking_unrefreshed": "Waking unrefreshed",
    "cognitive_symptoms": "Cognitive symptoms",
}
SEVERITY_SCALE = ((0, "0 · none"), (1, "1 · slight or mild"), (2, "2 · moderate"), (3, "3 · severe"))
SOMATIC_LABELS = {
    "headaches": "Headaches",
    "lower_abdominal_pain_or_cramps": "Pain or cramps in the lower abdomen",
    "depression": "Depression",
}
FINDING_COLUMNS = (
    ("taut_band", "Taut band"),
    ("tender_spot", "Tender spot"),
    ("recognised_pain", "Recognised pain"),
    ("spontaneous_pain", "Spontaneous pain"),
    ("local_twitch_response", "Twitch"),
    ("jump_sign", "Jump sign"),
    ("focal_nodule", "Nodule"),
)
CLASS_LABELS = {
    "active": "Active trigger point",
    "latent": "Latent trigger point",
    "not_trigger_point": "Not a trigger point",
}
TECHNIQUE_LABELS = {"injection": "Injection", "dry_needling": "Dry needling"}
GUIDANCE_LABELS = {"landmark": "Landmark (palpation)", "ultrasound": "Ultrasound"}


def site_label(muscle: str, side: str) -> str:
    atlas = load_atlas()
    name = atlas.muscles[muscle].name if atlas.has_muscle(muscle) else muscle.replace("_", " ")
    return f"{name}, {side}"


def zone_label(zone: str) -> str:
    atlas = load_atlas()
    return atlas.zones[zone].label if zone in atlas.zones else zone


def option_label(list_id: str, option_id: str) -> str:
    try:
        return load_history_options().list(list_id).get(option_id).label
    except RuleInputError:
        return option_id


def drug_name(drug_id: str) -> str:
    try:
        return load_drugs().get(drug_id).name
    except KeyError:
        return drug_id


def int_or_raw(value: Any) -> Any:
    """A posted digit string as the number it stands for (anything else as it came)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def finding_row(finding: Mapping[str, Any]) -> dict[str, Any]:
    """An exam finding (stored or amended) as a table row: site, class and flags in words."""
    row = dict(finding)
    row["site"] = f"{finding.get('muscle_name') or finding['muscle']}, {finding['side']}"
    row["class_label"] = CLASS_LABELS.get(finding["classification"], finding["classification"])
    row["flags"] = [(label, bool(finding.get(name))) for name, label in FINDING_COLUMNS]
    row["present"] = [label for name, label in FINDING_COLUMNS if finding.get(name)]
    row["referred_labels"] = [zone_label(z) for z in finding.get("referred_pain_zones", [])]
    return row

