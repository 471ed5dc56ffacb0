"""Turning stored check-ins and alerts into what a page shows (labels, not ids).

Shared by the worklist, the alert page, the portal and the patient's result page, so a
symptom or a temperature reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from triggerpoint.followup.content import load_symptoms
from triggerpoint.followup.temperature import Temperature

DISPOSITION_HEADLINES = {
    "emergency": "Call 911 now",
    "urgent": "We are paging the on-call clinician",
    "routine": "A clinician will contact you",
    "self_care": "This is expected after injections",
}

#: How the check-in form groups the published symptoms, in the order a patient should read them.
FORM_GROUPS = (
    ("emergency", "Right now, do you have any of these?"),
    ("anaesthetic_reaction", "Since the injection, have you had any of these?"),
    ("infection_or_allergy", "At the injection site or on your skin"),
    ("expected", "Common after injections"),
    ("other", "Anything else"),
)


@dataclass(frozen=True)
class AnswerLine:
    label: str
    value: str
    flag: bool = False  # a warning sign (shown highlighted to the clinician)


def symptom_label(symptom_id: str, language: str = "en") -> str:
    catalog = load_symptoms()
    if symptom_id not in catalog.by_id:
        return symptom_id.replace("_", " ")
    symptom = catalog.get(symptom_id)
    return symptom.label_es if language == "es" else symptom.label_en


def form_groups(selected: set[str] | frozenset[str] = frozenset(), language: str = "en") -> list[dict[str, Any]]:
    """[{"id", "heading", "urgent", "items": [{"id", "label", "checked"}]}] for the check-in form."""
    catalog = load_symptoms()
    groups = []
    for group_id, heading in FORM_GROUPS:
        items = [
            {"id": s.id, "label": s.label_es if language == "es" else s.label_en, "checked": s.id in selected}
            for s in catalog.symptoms if s.group == group_id
        ]
        if items:
            groups.append({"id": group_id, "heading": heading, "urgent": group_id == "emergency", "items": items})
    return groups


def describe_temperature(raw: dict[str, Any] | None) -> str:
    if not raw:
        return ""
    return Temperature(Decimal(str(raw["value"])), raw["unit"]).describe()


def answer_lines(answers: dict[str, Any]) -> list[AnswerLine]:
    """The answers as label/value lines; warning signs flagged."""
    if not answers:
        return []
    catalog = load_symptoms()
    lines = []
    chosen = answers.get("symptoms") or []
    if chosen:
        flagged = [s for s in chosen if s in catalog.by_id and catalog.get(s).group not in ("expected",)]
        lines.append(AnswerLine("Symptoms", "; ".join(symptom_label(s) for s in chosen), bool(flagged)))
    else:
        lines.append(AnswerLine("Symptoms", "none ticked"))
    temperature = describe_temperature(answers.get("temperature"))
    lines.append(AnswerLine("Temperature", temperature or "not taken"))
    if answers.get("pain_now") is not None:
        lines.append(AnswerLine("Pain now", f"{answers['pain_now']}/10", answers["pain_now"] >= 7))
    if answers.get("relief_percent") is not None:
        lines.append(AnswerLine("Relief since injection", f"{answers['relief_percent']}%"))
    if answers.get("free_text"):
        lines.append(AnswerLine("In their words", answers["free_text"]))
    return lines


def patient_reasons(triage: dict[str, Any]) -> list[str]:
    """The reasons worded for the patient (the rule messages; the clinician also sees the basis)."""
    return [reason["message"] for reason in triage.get("reasons", [])]


def headline(disposition: str) -> str:
    return DISPOSITION_HEADLINES.get(disposition, "Thank you")
