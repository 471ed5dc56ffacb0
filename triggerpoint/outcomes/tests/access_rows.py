"""Outcomes rows of the role × action matrix (accounts/tests/test_access_matrix.py).

Per-patient outcome pages are clinical (physician, nurse); clinic analytics and its
exports are for physicians and analysts only — front desk, clinic admins and patients
are refused. The questionnaire link opens for whoever holds the token; the portal
questionnaire and diary are the patient's own.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

EVERYONE = {"physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous"}
CLINICAL = {"physician", "nurse"}
ANALYTICS = {"physician", "analyst"}


def rows(patient):
    from triggerpoint.conftest import make_staff
    from triggerpoint.notifications import services as outbox
    from triggerpoint.outcomes.models import OutcomeRequest
    from triggerpoint.outcomes.tests.factories import signed_procedure

    doctor = make_staff(f"outcomes.doc.{patient.pk}", "physician", patient.clinic, with_totp=False)
    procedure = signed_procedure(patient, doctor, timezone.localdate() - timedelta(days=15))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    _link, token = outbox.issue_link(patient, "outcomes.request", request, timedelta(days=30))
    base = f"/outcomes/patients/{patient.public_id}/"
    api = f"/api/v1/outcomes/patients/{patient.public_id}"
    return [
        ("outcomes:patient", "get", base, None, CLINICAL, {200}),
        ("outcomes:repeat", "get", f"{base}repeat/?regions=cervical&payer=medicare_lcd", None, CLINICAL, {200}),
        ("outcomes:record", "post", f"{base}measurements/",
         {"instrument": "nrs_pain", "time_point": "other", "nrs_pain__now": "4"}, CLINICAL, {302}),
        ("outcomes:dashboard", "get", "/outcomes/analytics/", None, ANALYTICS, {200}),
        ("outcomes:export", "get", "/outcomes/analytics/export.csv", None, ANALYTICS, {200}),
        ("outcomes:export_deidentified", "get", "/outcomes/analytics/research.zip", None, ANALYTICS, {200}),
        ("outcomes:respond", "get", f"/outcomes/r/{token}/", None, EVERYONE, {200}),
        ("outcomes:portal_request", "get", f"/outcomes/portal/questionnaires/{request.public_id}/", None,
         {"portal_patient"}, {200}),
        ("outcomes:diary", "get", "/outcomes/portal/diary/", None, {"portal_patient"}, {200}),
        ("api:outcomes_instruments", "get", "/api/v1/outcomes/instruments", None, CLINICAL | {"portal_patient"}, {200}),
        ("api:outcomes_list_measurements", "get", f"{api}/measurements", None, CLINICAL | {"portal_patient"}, {200}),
        ("api:outcomes_record_measurement", "post", f"{api}/measurements",
         {"instrument": "percent_relief", "answers": {"relief": 60}, "time_point": "other"},
         CLINICAL | {"portal_patient"}, {201}),
        ("api:outcomes_repeat_decision", "get", f"{api}/repeat-decision?planned_date={timezone.localdate() + timedelta(days=30)}&regions=cervical",
         None, CLINICAL | {"portal_patient"}, {200}),
        ("api:outcomes_report", "get", "/api/v1/outcomes/analytics/report", None, ANALYTICS, {200}),
    ]
