"""The facts a screening is evaluated on, gathered from the chart and the questionnaire.

The pure rules take the `screening/evaluate` contract (ARCHITECTURE §8). This module fills
it from the patient record (age, sex, weight, allergies, medications, risk factors), the
clinic's own procedure notes (corticosteroid injections in the last 12 months) and the
answers stored on the screening. It never invents a fact: what the chart and the answers
do not say is left out, and the rules' parser then lists it as missing.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from triggerpoint.patients.selectors import surviving_chart
from triggerpoint.screening import history
from triggerpoint.screening.answers import split_free_text
from triggerpoint.screening.models import ClinicScreeningPolicy, ScreeningRecord
from triggerpoint.screening.rules import CONDITIONS, DEFAULT_POLICY, MEDICATION_CLASSES, ScreeningPolicy

# Chart drug classes the rules do not distinguish are "other".
_DOSE = re.compile(r"\s+\d.*$")

# What to do about each missing fact, in words for the clinician (keys are the parser's paths).
MISSING_FACT_HINTS: dict[str, str] = {
    "patient.weight_kg": "Record the patient's weight on the chart.",
    "patient.pregnant": "Ask whether the patient is or could be pregnant (questionnaire).",
    "today": "The questionnaire has not been answered yet.",
    "today.feels_unwell": "Ask whether the patient feels unwell today.",
    "today.on_antibiotics": "Ask whether the patient is taking antibiotics today.",
    "today.infection_at_site": "Check for infection or broken skin at or near the planned sites.",
    "events": "Ask about fever, antibiotics, illness or hospital stays in the weeks before.",
    "patient.allergy_status": "Record the allergies, or 'no known drug allergies', on the chart.",
}


def policy_for(clinic) -> ScreeningPolicy:
    """The clinic's screening thresholds: the defaults with the clinic's overrides applied."""
    row = ClinicScreeningPolicy.objects.filter(clinic=clinic).first()
    if row is None or not row.overrides:
        return DEFAULT_POLICY
    overrides = dict(row.overrides)
    for name in ("fever_threshold_c", "steroid_glucose_review_above_mg_dl", "pneumothorax_low_bmi_below"):
        if name in overrides:
            overrides[name] = Decimal(str(overrides[name]))
    for name in ("pneumothorax_risk_conditions", "widespread_pain_conditions"):
        if name in overrides:
            overrides[name] = frozenset(overrides[name])
    return ScreeningPolicy(**overrides)


def medication_name_for_matching(name: str) -> str:
    """"Apixaban 5 mg" → "Apixaban", so the blood-thinner table can name the drug."""
    return _DOSE.sub("", name).strip() or name


def pregnancy_fact(patient, answers: dict[str, Any], risk_kinds: set[str]) -> bool | None:
    """True when recorded or answered yes/unsure; False when answered no or the patient is male; else unknown."""
    if "pregnancy" in risk_kinds:
        return True
    answer = answers.get("pregnant")
    if answer in ("yes", "unsure"):
        return True
    if answer == "no" or patient.sex == "male":
        return False
    return None


def breastfeeding_fact(patient, answers: dict[str, Any], risk_kinds: set[str]) -> bool | None:
    """True when recorded or answered yes; False when answered no or the patient is male; else not asked."""
    if "breastfeeding" in risk_kinds:
        return True
    answer = answers.get("breastfeeding")
    if answer in ("yes", "no"):
        return answer == "yes"
    if patient.sex == "male":
        return False
    return None


def toxin_last_dose(patient, before: date) -> date | None:
    """The date of the patient's last signed botulinum toxin procedure before `before`, or None.

    Read through `screening.history` (procedures provides it: `procedures.selectors.last_toxin_session_before`).
    """
    return history.last_toxin_session_before(patient, before)


def clinic_steroid_injections(patient, before: date) -> int:
    """Signed procedures at this clinic with a corticosteroid, in the 12 months before `before`.

    Read through `screening.history` (procedures provides it: `procedures.selectors.clinic_steroid_sessions_12m`).
    """
    return history.clinic_steroid_sessions_12m(patient, before)


def steroid_count(at_clinic: int | None, elsewhere: int | None, policy: ScreeningPolicy) -> int | None:
    """Corticosteroid injections in the last 12 months, when it is known well enough to use.

    With the outside count answered, the sum. Without it, the clinic's own count is only a
    lower bound: it is used when it alone reaches the yearly limit (the rule must fire), and
    otherwise left out, so the rule says the count was not checked and someone asks.
    """
    if elsewhere is not None:
        return (at_clinic or 0) + elsewhere
    if at_clinic is not None and at_clinic + 1 > policy.steroid_yearly_max:
        return at_clinic
    return None


def screening_request(screening: ScreeningRecord, policy: ScreeningPolicy | None = None) -> dict[str, Any]:
    """The `screening/evaluate` request for this screening, from the chart and the answers."""
    policy = policy or policy_for(screening.clinic)
    # The person's chart: a screening made on a chart since merged into another reads the survivor's
    # allergies, medications and risk factors (moved there by the merge) and demographics.
    patient = surviving_chart(screening.patient)
    answers = screening.answers or {}
    on = screening.planned_procedure_date
    risk_kinds = set(patient.risk_factors.values_list("kind", flat=True))
    allergies = [allergy.substance for allergy in patient.allergies.all()]
    allergies += split_free_text(answers.get("new_allergies", ""))
    allergy_status = "has_allergies" if allergies else patient.allergy_status
    if allergy_status == "has_allergies" and not allergies:
        allergy_status = "unknown"  # every listed allergy was removed: nobody has said "none" since
    medications = [
        {
            "name": medication_name_for_matching(medication.name),
            "drug_class": medication.drug_class if medication.drug_class in MEDICATION_CLASSES else "other",
        }
        for medication in patient.medications.filter(active=True)
    ]
    medications += [
        {"name": medication_name_for_matching(name), "drug_class": "other"}
        for name in split_free_text(answers.get("new_medications", ""))
    ]
    conditions = sorted(risk_kinds & set(CONDITIONS))
    if answers.get("prior_vasovagal") and "prior_vasovagal" not in conditions:
        conditions.append("prior_vasovagal")
    for flag in answers.get("red_flags", []):
        if flag in CONDITIONS and flag not in conditions:
            conditions.append(flag)

    patient_facts: dict[str, Any] = {
        "age": patient.age_on(on),
        "sex": patient.sex,
        "weight_kg": float(patient.weight_kg) if patient.weight_kg else None,
        "pregnant": pregnancy_fact(patient, answers, risk_kinds),
        "allergies": allergies,
        "medications": medications,
        "conditions": sorted(conditions),
        "high_bleeding_risk": "high_bleeding_risk" in risk_kinds,
        "allergy_status": allergy_status,
    }
    if patient.bmi is not None:
        patient_facts["bmi"] = patient.bmi
    breastfeeding = breastfeeding_fact(patient, answers, risk_kinds)
    if breastfeeding is not None:
        patient_facts["breastfeeding"] = breastfeeding
    if answers.get("inr"):
        patient_facts["inr"] = answers["inr"]

    history: dict[str, Any] = {}
    count = steroid_count(clinic_steroid_injections(patient, on), answers.get("steroid_injections_elsewhere_12m"), policy)
    if count is not None:
        history["steroid_injections_last_12_months"] = count
    last_toxin = toxin_last_dose(patient, on)
    if last_toxin is not None:
        history["last_botulinum_toxin_date"] = last_toxin.isoformat()

    request: dict[str, Any] = {
        "procedure_date": on.isoformat(),
        "patient": patient_facts,
        "plan": screening.plan,
        "history": history,
    }
    if "events" in answers:
        request["events"] = answers["events"]
    if "today" in answers:
        request["today"] = answers["today"]
    return request


def hint_for(problem: str) -> str:
    """The clinician-facing next step for one parser problem, when there is a known one."""
    path = problem.split(" ", 1)[0]
    return MISSING_FACT_HINTS.get(path, "")
