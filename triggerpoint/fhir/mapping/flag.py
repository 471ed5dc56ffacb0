"""Screening findings as DetectedIssue, follow-up triage alerts as Flag (base R4; US Core has no profile).

Registration:

* ``to_resource(record, *, base_url: str) -> dict`` - ``record`` is a ``followup.Alert`` (a Flag, id =
  its public id) or a ``(screening, n, finding)`` triple (a DetectedIssue, id ``<screening public id>-<n>``);
* ``get(resource_id: str, clinic)`` - the Alert for a Flag id, the triple for a DetectedIssue id
  (the registry knows which type was asked: ``get_flag`` / ``get_detected_issue``);
* ``flags_for_patient(patient_ids, clinic) -> QuerySet[Alert]`` and
  ``detected_issues_for_patient(patient_ids, clinic) -> iterator of (screening, n, finding)``.

Why two resources. A screening finding ("on apixaban: hold before the injection", "fever: defer") is a
problem found with one planned action, the procedure: that is what DetectedIssue is for (R4: "an
actual or potential clinical issue with or between one or more active or proposed clinical actions"),
with a severity, the evidence, the procedures it implicates and the mitigation a physician recorded
(review or override). A triage alert from a check-in ("possible allergic reaction on day 2") is a
warning about the patient for whoever sees them next, open until a clinician resolves it: that is a
Flag (R4: "prospective warnings of potential issues when providing care to the patient"), active
while open or acknowledged and inactive once resolved, with its period.

Findings of severity ``info`` are not issues and are left out. Rule ids are codes of our own system.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triggerpoint.fhir.mapping.clinical_common import (
    fhir_id,
    instant,
    own_system,
    parse_uuid,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
)
from triggerpoint.followup import selectors as followup_selectors
from triggerpoint.screening import selectors as screening_selectors

ISSUE_SEVERITY = {"contraindicated": "high", "defer": "high", "review": "moderate"}
FLAG_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "clinical",
                             "display": "Clinical"}]}
MITIGATION_ACTION = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


# ---------------------------------------------------------------- Flag: triage alerts
def flags_for_patient(patient_ids, clinic):
    return followup_selectors.alerts_for_patients(patient_ids, clinic)


def get_flag(resource_id: str, clinic):
    return followup_selectors.alert(clinic, resource_id)


def flag_resource(alert, *, base_url: str) -> dict[str, Any]:
    reasons = (alert.checkin.triage or {}).get("reasons") or []
    messages = [reason.get("message", "") for reason in reasons if reason.get("message")]
    disposition = alert.get_disposition_display()
    text = f"{disposition} follow-up alert: " + (" ".join(messages) or "warning sign reported after the procedure")
    resource = {
        "resourceType": "Flag",
        "id": str(alert.public_id),
        "status": "inactive" if alert.status == "resolved" else "active",
        "category": [FLAG_CATEGORY],
        "code": {"coding": [{"system": own_system(base_url, "triage-disposition"), "code": alert.disposition,
                             "display": disposition}], "text": text},
        "subject": patient_reference(alert.patient),
        "period": {"start": instant(alert.raised_at), "end": instant(alert.resolved_at)},
        "encounter": procedure_encounter_reference(alert.procedure),
        "author": practitioner_reference(alert.acknowledged_by),
    }
    return prune(resource)


# ---------------------------------------------------------------- DetectedIssue: screening findings
def issues_of(screening) -> list[tuple[int, dict]]:
    return [(n, finding) for n, finding in enumerate(screening.findings or [], start=1)
            if finding.get("severity") in ISSUE_SEVERITY]


def detected_issues_for_patient(patient_ids, clinic) -> Iterator[tuple]:
    for screening in screening_selectors.evaluated_screenings_for_patients(patient_ids, clinic):
        for n, finding in issues_of(screening):
            yield screening, n, finding


def get_detected_issue(resource_id: str, clinic):
    text = str(resource_id)
    screening = screening_selectors.evaluated_screening(clinic, text[:36]) if parse_uuid(text[:36]) else None
    number = text[37:]
    if screening is None or text[36:37] != "-" or not number.isdigit():
        return None
    return next(((screening, n, f) for n, f in issues_of(screening) if n == int(number)), None)


def mitigation(screening) -> list[dict[str, Any]]:
    found = []
    if screening.overridden_at:
        found.append({"action": {"text": f"Physician override: {screening.override_reason}".strip()},
                      "date": instant(screening.overridden_at), "author": practitioner_reference(screening.overridden_by)})
    if screening.reviewed_at:
        found.append({"action": {"text": f"Physician review: {screening.review_note}".strip()},
                      "date": instant(screening.reviewed_at), "author": practitioner_reference(screening.reviewed_by)})
    return found


def detected_issue_resource(record, *, base_url: str) -> dict[str, Any]:
    screening, n, finding = record
    rule = finding.get("rule") or finding.get("id") or "screening-finding"
    implicated = [{"reference": f"Procedure/{note.public_id}"} for note in screening.procedures.all() if note.is_signed]
    resource = {
        "resourceType": "DetectedIssue",
        "id": fhir_id(f"{screening.public_id}-{n}"),
        "status": "final",
        "code": {"coding": [{"system": own_system(base_url, "screening-rule"), "code": rule}],
                 "text": f"Pre-procedure screening: {finding.get('severity')}"},
        "severity": ISSUE_SEVERITY[finding["severity"]],
        "patient": patient_reference(screening.patient),
        "identifiedDateTime": instant(screening.evaluated_at),
        "implicated": implicated,
        "detail": finding.get("message"),
        "reference": None,
        "mitigation": mitigation(screening),
    }
    return prune(resource)


def to_resource(record, *, base_url: str) -> dict[str, Any]:
    if isinstance(record, tuple):
        return detected_issue_resource(record, base_url=base_url)
    return flag_resource(record, base_url=base_url)
