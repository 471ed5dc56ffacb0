"""Screening findings as DetectedIssue, follow-up triage alerts as Flag (base R4; US Core has no profile).

Registration: two resource types, one row = one resource each.

* Flag: ``flag_records(**filters) -> QuerySet[Alert]`` (``patient_id``, ``clinic_id``; ``patient`` on
  ``patient__public_id``), ``flag_resource(alert, *, base_url=None)``, id = the alert's public id,
  ``filter_ids``, ``get_flag(id, clinic)``, ``flags_for_patient(patient_ids, clinic)``;
* DetectedIssue: ``issue_records(**filters) -> QuerySet[ScreeningRecord]`` (evaluated screenings whose
  result is review, defer or contraindicated; same fields), ``detected_issue_resource(screening, *,
  base_url=None)``, id = the screening's public id, ``filter_ids``, ``get_detected_issue(id, clinic)``,
  ``detected_issues_for_patient(patient_ids, clinic)``;
* ``to_resource(alert or screening, *, base_url=None)`` picks by the record; ``patient_of(record)``.

Why two resources. A screening finding ("on apixaban: hold before the injection", "fever: defer") is a
problem found with one planned action, the procedure: that is what DetectedIssue is for (R4: "an
actual or potential clinical issue with or between one or more active or proposed clinical actions"),
with a severity, the evidence, the procedures it implicates and the mitigation a physician recorded
(review or override). A triage alert from a check-in ("possible allergic reaction on day 2") is a
warning about the patient for whoever sees them next, open until a clinician resolves it: that is a
Flag (R4: "prospective warnings of potential issues when providing care to the patient"), active
while open or acknowledged and inactive once resolved, with its period.

One DetectedIssue per screening result (not per finding): the result is what a physician reviews or
overrides, so its severity is the worst finding's and each finding above ``info`` is evidence (rule
id as a code of our own system, the message as text). A "ready" screening raises no issue.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.clinical_common import (
    base_or_default,
    instant,
    own_system,
    patient_reference,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    uuids,
)
from triggerpoint.followup import selectors as followup_selectors
from triggerpoint.screening import selectors as screening_selectors

ISSUE_SEVERITY = {"contraindicated": "high", "defer": "high", "review": "moderate"}
FLAG_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "clinical",
                             "display": "Clinical"}]}
PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"


def patient_of(record):
    return record.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids))


# ---------------------------------------------------------------- Flag: triage alerts
def flag_records(**filters):
    return followup_selectors.alerts(**filters)


def flags_for_patient(patient_ids, clinic):
    return flag_records(clinic_id=clinic.pk, patient_id__in=list(patient_ids))


def get_flag(resource_id: str, clinic):
    return filter_ids(flag_records(clinic_id=clinic.pk), [resource_id]).first()


def flag_resource(alert, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
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


# ---------------------------------------------------------------- DetectedIssue: screening results
def issue_records(**filters):
    return screening_selectors.screenings_with_findings(**filters)


def detected_issues_for_patient(patient_ids, clinic):
    return issue_records(clinic_id=clinic.pk, patient_id__in=list(patient_ids))


def get_detected_issue(resource_id: str, clinic):
    return filter_ids(issue_records(clinic_id=clinic.pk), [resource_id]).first()


def issues_of(screening) -> list[dict]:
    return [finding for finding in screening.findings or [] if finding.get("severity") in ISSUE_SEVERITY]


def mitigation(screening) -> list[dict[str, Any]]:
    found = []
    if screening.overridden_at:
        found.append({"action": {"text": f"Physician override: {screening.override_reason}".strip()},
                      "date": instant(screening.overridden_at), "author": practitioner_reference(screening.overridden_by)})
    if screening.reviewed_at:
        found.append({"action": {"text": f"Physician review: {screening.review_note}".strip()},
                      "date": instant(screening.reviewed_at), "author": practitioner_reference(screening.reviewed_by)})
    return found


def detected_issue_resource(screening, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    findings = issues_of(screening)
    system = own_system(base_url, "screening-rule")
    implicated = [{"reference": f"Procedure/{note.public_id}"} for note in screening.procedures.all() if note.is_signed]
    resource = {
        "resourceType": "DetectedIssue",
        "id": str(screening.public_id),
        "status": "final",
        "code": {"coding": [{"system": own_system(base_url, "screening-result"), "code": screening.status,
                             "display": screening.get_status_display()}],
                 "text": f"Pre-procedure screening: {screening.get_status_display().lower()}"},
        "severity": ISSUE_SEVERITY.get(screening.status, "moderate"),
        "patient": patient_reference(screening.patient),
        "identifiedDateTime": instant(screening.evaluated_at),
        "implicated": implicated,
        "evidence": [{"code": [{"coding": [{"system": system, "code": f["rule_id"], "display": f.get("rule_title")}]
                                if f.get("rule_id") else [], "text": f.get("message")}]} for f in findings],
        "detail": " ".join(f.get("message", "") for f in findings) or None,
        "mitigation": mitigation(screening),
    }
    return prune(resource)


def to_resource(record, *, base_url: str | None = None) -> dict[str, Any]:
    if hasattr(record, "findings"):
        return detected_issue_resource(record, base_url=base_url)
    return flag_resource(record, base_url=base_url)
