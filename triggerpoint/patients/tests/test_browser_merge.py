"""In a real browser: the clinic admin merges a duplicate chart after comparing both; the old chart's address
then opens the chart that stayed, which says where it was merged from."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login, make_patient
from triggerpoint.followup.tests.factories import signed_procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_merges_a_duplicate_after_comparing_and_its_address_opens_the_survivor(
        browser, page, live_server, clinic_admin, physician, screenshot):
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.patients.models import Patient

    clinic = clinic_admin.clinic
    kept = make_patient(clinic, "A-0201", "María", "Ibáñez", date_of_birth=date(1968, 2, 9), phone="(555) 010-3030")
    duplicate = make_patient(clinic, "A-0377", "Maria", "Ibanez", date_of_birth=date(1968, 2, 9),
                             phone="555.010.3030")
    signed_procedure(duplicate, physician, on=date(2026, 10, 5))

    browser_login(page, live_server, clinic_admin)
    page.wait_for_load_state()
    page.click("nav.shell-nav >> text=Merge charts")
    expect(page.locator("h1")).to_have_text("Merge duplicate charts")

    # A typing slip: the same number twice is refused with the reason.
    page.fill("#absorbed_mrn", "A-0377")
    page.fill("#survivor_mrn", "A-0377")
    page.click("#merge-form button[type=submit]")
    expect(page.locator("#merge-problem")).to_contain_text("cannot be merged into itself")

    page.fill("#survivor_mrn", "A-0201")
    page.click("#merge-form button[type=submit]")
    sides = page.locator("#merge-confirm")
    expect(sides).to_contain_text("Merge A-0377 into A-0201?")
    expect(sides).to_contain_text("Ibanez, Maria")
    expect(sides).to_contain_text("Ibáñez, María")
    expect(sides).to_contain_text("Procedures: 1")
    screenshot(page, "admin-merge-01-compare-both-charts")
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None
    page.click("#confirm-merge")
    expect(page.locator(".messages")).to_contain_text("A-0377 was merged into A-0201")
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == kept.pk
    event = AuditEvent.objects.get(action="patients.patient.merged")
    assert (event.details["absorbed_mrn"], event.details["survivor_mrn"]) == ("A-0377", "A-0201")

    # A clinician follows an old link to the duplicate: the chart that stayed opens, with the old signed note.
    doctor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    doctor.set_default_timeout(15000)
    browser_login(doctor, live_server, physician)
    doctor.wait_for_load_state()
    doctor.goto(f"{live_server.url}/patients/{duplicate.public_id}/")
    doctor.wait_for_url(f"{live_server.url}/patients/{kept.public_id}/")
    expect(doctor.locator(".merged-from")).to_contain_text("Merged from MRN A-0377")
    expect(doctor.locator("#timeline")).to_contain_text("2026-10-05")
    screenshot(doctor, "admin-merge-02-survivor-chart-merged-from")
    doctor.context.close()
