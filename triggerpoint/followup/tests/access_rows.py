"""Follow-up rows of the role × action matrix (accounts/tests/test_access_matrix.py).

Record routes are nested under the patient, so the physician of another clinic is refused
them (404); tokenised patient links are open to whoever holds the token, whatever their
role, and the symptom list is public by design (no patient data).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

CLINICAL = {"physician", "nurse"}
ONCALL_MANAGERS = {"physician", "clinic_admin"}
EVERYONE = {"physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic",
            "anonymous"}
PORTAL = {"portal_patient"}


def _performer(clinic):
    from django.contrib.auth.models import Group

    from triggerpoint.accounts.models import User

    user, created = User.objects.get_or_create(username=f"rows.performer.{clinic.slug}", defaults={"clinic": clinic})
    if created:
        user.groups.add(Group.objects.get(name="physician"))
    return user


def rows(patient):
    from triggerpoint.followup.checkins import CHECKIN_PURPOSE, report_problem, schedule_checkins
    from triggerpoint.followup.models import Alert, AnsweredVia, CheckIn
    from triggerpoint.followup.report_window import REPORT_PURPOSE
    from triggerpoint.followup.tests.factories import signed_procedure
    from triggerpoint.notifications.services import issue_link

    now = timezone.now()
    procedure = signed_procedure(patient, _performer(patient.clinic), on=timezone.localtime(now, patient.clinic.zone).date(),
                                 performed_at=now - timedelta(hours=1))
    schedule_checkins(procedure, now=now)
    report_problem(procedure, {"symptoms": ["hives"]}, via=AnsweredVia.PORTAL, now=now)
    report_problem(procedure, {"symptoms": ["rash"]}, via=AnsweredVia.PORTAL, now=now)
    page_alert, api_alert = Alert.objects.filter(procedure=procedure).order_by("id")
    unanswered = CheckIn.objects.filter(procedure=procedure, kind="scheduled").order_by("day")
    for_link, for_api = unanswered[0], unanswered[1]
    _link, checkin_token = issue_link(patient, CHECKIN_PURPOSE, for_link, timedelta(hours=2))
    _link, report_token = issue_link(patient, REPORT_PURPOSE, procedure, timedelta(hours=2))

    p = patient.public_id
    alert_page = f"/followup/p/{p}/alerts/{page_alert.public_id}/"
    checkin_page = f"/followup/p/{p}/checkins/{page_alert.checkin.public_id}/"
    api = "/api/v1/followup"
    api_alert_url = f"{api}/patients/{p}/alerts/{api_alert.public_id}"
    triage_body = {"procedure_date": "2026-11-16", "reported_at": "2026-11-17T09:00:00-05:00", "symptoms": ["fever"]}
    return [
        # patient pages by link: whoever holds the token
        ("followup:checkin_link", "get", f"/followup/c/{checkin_token}/", None, EVERYONE, {200}),
        ("followup:checkin_link_report", "post", f"/followup/c/{checkin_token}/report/", {}, EVERYONE, {302}),
        ("followup:report_link", "get", f"/followup/r/{report_token}/", None, EVERYONE, {200}),
        # patient pages in the portal
        ("followup:portal_checkin", "get", f"/followup/my/checkins/{for_link.public_id}/", None, PORTAL, {200}),
        ("followup:portal_report_start", "get", "/followup/my/report/", None, PORTAL, {200, 302}),
        ("followup:portal_report", "get", f"/followup/my/report/{procedure.public_id}/", None, PORTAL, {200}),
        # staff pages
        ("followup:alert", "get", alert_page, None, CLINICAL, {200}),
        ("followup:alert_acknowledge", "post", f"{alert_page}acknowledge/", {}, CLINICAL, {302}),
        ("followup:alert_resolve", "post", f"{alert_page}resolve/", {"note": "Called, reassured."}, CLINICAL, {302}),
        ("followup:checkin", "get", checkin_page, None, CLINICAL, {200}),
        ("followup:checkin_review", "post", f"{checkin_page}review/", {}, CLINICAL, {302}),
        ("followup:call_note", "post", f"/followup/p/{p}/call-notes/", {"outcome": "no_answer"}, CLINICAL, {302}),
        ("followup:oncall", "get", "/followup/oncall/", None, ONCALL_MANAGERS, {200}),
        # API
        ("api:followup_triage", "post", f"{api}/triage", triage_body, CLINICAL, {200}),
        ("api:followup_symptoms", "get", f"{api}/symptoms", None, EVERYONE, {200}),
        ("api:followup_checkins", "get", f"{api}/checkins", None, CLINICAL, {200}),
        ("api:followup_patient_checkins", "get", f"{api}/patients/{p}/checkins", None, CLINICAL, {200}),
        ("api:followup_checkin", "get", f"{api}/patients/{p}/checkins/{for_api.public_id}", None, CLINICAL, {200}),
        ("api:followup_answer_checkin", "post", f"{api}/patients/{p}/checkins/{for_api.public_id}/answers",
         {"symptoms": []}, CLINICAL, {200}),
        ("api:followup_alerts", "get", f"{api}/alerts", None, CLINICAL, {200}),
        ("api:followup_alert", "get", api_alert_url, None, CLINICAL, {200}),
        ("api:followup_acknowledge_alert", "post", f"{api_alert_url}/acknowledge", {}, CLINICAL, {200}),
        ("api:followup_resolve_alert", "post", f"{api_alert_url}/resolve", {"note": "Resolved by phone."}, CLINICAL,
         {200}),
        ("api:followup_call_note", "post", f"{api}/patients/{p}/call-notes", {"outcome": "reached"}, CLINICAL, {201}),
        ("api:followup_oncall", "get", f"{api}/oncall", None, CLINICAL, {200}),
        ("api:followup_update_oncall", "put", f"{api}/oncall", {"acknowledge_within_minutes": 15}, ONCALL_MANAGERS,
         {200}),
    ]
