"""Aftercare rows of the role × action matrix (accounts/tests/test_access_matrix.py).

Plan pages sit under the patient's id, so a clinician of another clinic is refused them;
the tokenised-link pages open for whoever holds the token (that is what a link is for) and
only that plan; the library holds no patient data and is open to all.
"""

from __future__ import annotations

from datetime import timedelta

from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure

EVERYONE = {
    "physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous",
}
CLINICAL = {"physician", "nurse"}
PLAN_READERS = CLINICAL | {"portal_patient"}


def rows(patient):
    from triggerpoint.notifications import services as outbox

    plan = plan_for(signed_procedure(patient, sites=(("upper_trapezius", "left"),), drugs=("lidocaine",)))
    other_procedure = signed_procedure(patient, send_signal=False)  # signed, no plan yet
    _link, token = outbox.issue_link(patient, "aftercare.plan", plan, timedelta(days=30))
    base = f"/aftercare/patient/{patient.public_id}/plan/{plan.public_id}/"
    link = f"/aftercare/p/{token}/"
    check = {"day": "1", "task": "heat", "done": "1"}
    return [
        ("aftercare:library", "get", "/aftercare/learn/", None, EVERYONE, {200}),
        ("aftercare:article", "get", "/aftercare/learn/aftercare/?lang=es", None, EVERYONE, {200}),
        ("aftercare:plan", "get", base, None, PLAN_READERS, {200}),
        ("aftercare:plan_pdf", "get", f"{base}print.pdf", None, PLAN_READERS, {200}),
        ("aftercare:plan_ics", "get", f"{base}calendar.ics", None, PLAN_READERS, {200}),
        ("aftercare:plan_check", "post", f"{base}check/", check, {"portal_patient"}, {302}),
        ("aftercare:create_plan", "get",
         f"/aftercare/patient/{patient.public_id}/procedure/{other_procedure.public_id}/plan/", None, CLINICAL, {200}),
        ("aftercare:link_plan", "get", link, None, EVERYONE, {200}),
        ("aftercare:link_pdf", "get", f"{link}print.pdf", None, EVERYONE, {200}),
        ("aftercare:link_ics", "get", f"{link}calendar.ics", None, EVERYONE, {200}),
        ("aftercare:link_check", "post", f"{link}check/", check, EVERYONE, {302}),
        ("api:aftercare_plan", "post", "/api/v1/aftercare/plan",
         {"procedure_date": "2026-03-07", "sites": [{"muscle": "masseter", "side": "left"}],
          "injectates": [{"drug": "lidocaine"}], "patient": {"conditions": []}}, CLINICAL, {200}),
        # Last: stopping reminders changes the patient's preference for the rows after it.
        ("aftercare:link_stop_reminders", "post", f"{link}reminders/stop/", {}, EVERYONE, {302}),
        ("aftercare:plan_stop_reminders", "post", f"{base}reminders/stop/", {}, PLAN_READERS, {302}),
    ]
