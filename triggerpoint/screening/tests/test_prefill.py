"""A new screening starts from the patient's signed assessment plan, marked as such, and stays editable."""

from __future__ import annotations

import re
from datetime import date

from triggerpoint.assessment import visit_drafting, visit_signing
from triggerpoint.assessment.tests.factories import ready_visit
from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.screening import prefill, services

PROCEDURE_DAY = date(2026, 12, 1)


def signed_plan_visit(physician, patient):
    """A signed assessment planning the right upper trapezius with 1 % lidocaine, injected under ultrasound."""
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit = visit_drafting.save_visit_draft(
            physician,
            visit,
            visit.version,
            {"planned_injectate": [{"drug": "lidocaine", "concentration": "1%"}], "planned_technique": "injection",
             "planned_guidance": "ultrasound"},
        )
        return visit_signing.sign_visit(physician, visit, visit.version)


def test_a_signed_plan_prefills_a_new_screening_and_records_where_each_part_came_from(physician, patient):
    visit = signed_plan_visit(physician, patient)
    started = prefill.plan_prefill(patient)
    assert started.plan == {
        "sites": [{"muscle": "upper_trapezius", "side": "right"}],
        "injectates": [{"drug": "lidocaine"}],
        "technique": "injection",
        "guidance": "ultrasound",
    }
    plan = dict(started.plan)
    with acting_as(physician):
        screening = services.create_screening(physician, patient, PROCEDURE_DAY, plan, prefill=started)
    source = {"source": "assessment", "id": str(visit.public_id), "date": "2026-11-20"}
    assert screening.prefilled_from == {"sites": source, "injectates": source, "technique": source, "guidance": source}
    assert screening.plan["guidance"] == "ultrasound"
    assert screening.plan["sites"] == [{"muscle": "upper_trapezius", "side": "right"}]
    assert screening.plan["injectates"] == [{"drug": "lidocaine"}]


def test_a_part_the_user_changed_is_theirs_and_not_marked_prefilled(physician, patient):
    signed_plan_visit(physician, patient)
    started = prefill.plan_prefill(patient)
    plan = dict(started.plan, guidance="landmark", injectates=[{"drug": "bupivacaine"}])
    with acting_as(physician):
        screening = services.create_screening(physician, patient, PROCEDURE_DAY, plan, prefill=started)
    assert set(screening.prefilled_from) == {"sites", "technique"}
    assert screening.plan["injectates"] == [{"drug": "bupivacaine"}]


def test_no_signed_plan_prefills_nothing(physician, patient):
    ready_visit(physician, patient)  # a draft plan is not a plan yet
    started = prefill.plan_prefill(patient)
    assert not started and started.plan == {}
    with acting_as(physician):
        screening = services.create_screening(
            physician,
            patient,
            PROCEDURE_DAY,
            {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
             "guidance": "landmark"},
            prefill=started,
        )
    assert screening.prefilled_from == {}


def test_the_new_screening_form_shows_the_prefilled_plan_and_its_source(login_as, physician, patient):
    signed_plan_visit(physician, patient)
    html = login_as(physician).get(f"/screening/patient/{patient.public_id}/new/").content.decode()
    event = AuditEvent.objects.get(action="screening.plan.prefilled")
    assert event.patient_id == patient.pk and event.details["parts"] == ["guidance", "injectates", "sites", "technique"]
    assert html.count("Prefilled from the assessment of 2026-11-20") == 4  # sites, injectates, technique, guidance
    assert re.search(r'<input type="radio" name="guidance" value="ultrasound"[^>]*\bchecked', html)
    assert 'value="upper_trapezius" selected' in html
    assert re.search(r'<input type="checkbox" name="injectates" value="lidocaine"[^>]*\bchecked', html)
    assert not re.search(r'<input type="checkbox" name="injectates" value="bupivacaine"[^>]*\bchecked', html)


def test_the_form_is_blank_and_unmarked_without_a_signed_plan(login_as, physician, patient):
    html = login_as(physician).get(f"/screening/patient/{patient.public_id}/new/").content.decode()
    assert "Prefilled from" not in html
    assert not AuditEvent.objects.filter(action="screening.plan.prefilled").exists()
    assert "selected" not in html.split('name="site_0_muscle"')[1].split("</select>")[0].replace('value="" selected', "")


def test_the_screening_page_keeps_the_mark_on_the_parts_left_as_prefilled(login_as, physician, patient):
    signed_plan_visit(physician, patient)
    started = prefill.plan_prefill(patient)
    plan = dict(started.plan, guidance="landmark", injectates=[{"drug": "bupivacaine"}])
    with acting_as(physician):
        screening = services.create_screening(physician, patient, PROCEDURE_DAY, plan, prefill=started)
    html = login_as(physician).get(f"/screening/patient/{patient.public_id}/{screening.public_id}/").content.decode()
    assert html.count("Prefilled from the assessment of 2026-11-20") == 2  # sites and technique, not the changed drugs
    injectates = html.split("<dt>Injectates</dt>")[1].split("</dd>")[0]
    assert "Bupivacaine" in injectates and "Prefilled" not in injectates


def test_creating_from_the_form_records_the_parts_left_as_prefilled(login_as, physician, patient):
    visit = signed_plan_visit(physician, patient)
    response = login_as(physician).post(
        f"/screening/patient/{patient.public_id}/new/",
        {"planned_procedure_date": PROCEDURE_DAY.isoformat(), "site_0_muscle": "upper_trapezius", "site_0_side": "left",
         "injectates": ["lidocaine"], "guidance": "ultrasound", "technique": "injection"},
    )
    screening = patient.screenings.get()
    assert response.status_code == 302
    assert {part: source["id"] for part, source in screening.prefilled_from.items()} == {
        "injectates": str(visit.public_id), "technique": str(visit.public_id), "guidance": str(visit.public_id)
    }  # the side was changed: the sites are the user's
    assert screening.plan["sites"] == [{"muscle": "upper_trapezius", "side": "left"}]
    assert screening.plan["guidance"] == "ultrasound"
