"""In a real browser, as the front desk: register a likely duplicate and be warned; find patients by DOB and by phone."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_is_warned_of_a_likely_duplicate_and_finds_patients_by_dob_and_phone(page, live_server, front_desk,
                                                                                       screenshot):
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.patients.models import Patient

    clinic = front_desk.clinic
    clinic.mrn_prefix = "ALP-"
    clinic.save()
    jose = make_patient(clinic, "ALP-000101", "José", "García", date_of_birth=date(1980, 5, 17), phone="(555) 010-2345")
    make_patient(clinic, "ALP-000102", "Ana", "Garcia", date_of_birth=date(1990, 1, 2), phone="(555) 010-9999")
    make_patient(clinic, "ALP-000103", "Luis", "Garcia", date_of_birth=date(1975, 12, 1), phone="(555) 010-4444")

    browser_login(page, live_server, front_desk)
    page.wait_for_url(f"{live_server.url}/worklist/")

    # Register "Jose Garcia" again, typed without the accent and with the name order swapped: warned.
    page.goto(f"{live_server.url}/patients/new/")
    page.fill("#id_given_name", "Garcia")
    page.fill("#id_family_name", "Jose")
    page.fill("#id_date_of_birth", "1980-05-17")
    page.fill("#id_phone", "555 010 2345")
    page.click("form.form-grid button[type=submit]")
    warning = page.locator("#likely-duplicates")
    expect(warning).to_contain_text("This may be a patient you already have")
    expect(warning).to_contain_text("ALP-000101")
    expect(warning).to_contain_text("date of birth and name, phone")
    assert Patient.objects.count() == 3
    screenshot(page, "front-desk-01-likely-duplicate")

    # "Open this chart" leads to the existing chart; nothing was created.
    warning.locator("text=Open this chart").click()
    page.wait_for_url(f"{live_server.url}/patients/{jose.public_id}/")
    assert Patient.objects.count() == 3

    # A genuinely different person with the same phone (a family member): confirmed and created with a generated MRN.
    page.goto(f"{live_server.url}/patients/new/")
    page.fill("#id_given_name", "Marta")
    page.fill("#id_family_name", "García")
    page.fill("#id_date_of_birth", "2005-09-30")
    page.fill("#id_phone", "555-010-2345")
    page.click("form.form-grid button[type=submit]")
    expect(page.locator("#likely-duplicates")).to_contain_text("phone")
    page.click("#confirm-different")
    page.wait_for_selector("h1:has-text('García, Marta')")
    marta = Patient.objects.get(given_name="Marta")
    assert marta.mrn == "ALP-000104"
    assert AuditEvent.objects.filter(action="patients.duplicate.dismissed", patient=marta).count() == 1
    screenshot(page, "front-desk-02-created-after-confirming")

    # Search by date of birth (US order with slashes) and by phone digits.
    page.goto(f"{live_server.url}/patients/")
    page.fill("#q", "05/17/1980")
    results = page.locator("#patient-results")
    expect(results).to_contain_text("García, José")
    expect(results).not_to_contain_text("Ana")
    screenshot(page, "front-desk-03-search-by-dob")
    page.fill("#q", "5550109999")
    expect(results).to_contain_text("Garcia, Ana")
    expect(results).not_to_contain_text("José")
    page.fill("#q", "garcia")
    expect(results).to_contain_text("Garcia, Luis")
    expect(results.locator("tbody tr")).to_have_count(4)
    screenshot(page, "front-desk-04-search-three-garcias")
