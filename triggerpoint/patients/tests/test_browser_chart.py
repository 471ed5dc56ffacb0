"""In a real browser: sign in with the second factor, search a patient, open the chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_signs_in_with_totp_finds_a_patient_and_opens_the_chart(page, live_server, physician, screenshot):
    from triggerpoint.patients.models import Allergy, Medication, RiskFactor

    patient = make_patient(physician.clinic, "A-4242", "Harriet", "Quill")
    Allergy.objects.create(clinic=patient.clinic, patient=patient, substance="Lidocaine", reaction="Hives", severity="moderate")
    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Apixaban 5 mg", drug_class="anticoagulant")
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="diabetes")
    make_patient(physician.clinic, "A-4243", "Someone", "Else")

    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "foundation-01-login")
    browser_login(page, live_server, physician)
    page.wait_for_url(f"{live_server.url}/worklist/")
    assert page.locator(".shell-header").inner_text().count("Alpha Test Clinic") == 1
    assert "Physician" in page.locator(".shell-user").inner_text()

    page.goto(f"{live_server.url}/patients/")
    page.fill("#q", "Quill")
    expect(page.locator("#patient-results")).not_to_contain_text("Someone")
    expect(page.locator("#patient-results")).to_contain_text("Quill, Harriet")
    screenshot(page, "foundation-02-search")
    page.click("text=Quill, Harriet")
    page.wait_for_selector("h1:has-text('Quill, Harriet')")
    banner = page.locator(".allergy-banner").inner_text()
    assert "Lidocaine" in banner
    assert "Apixaban" in page.locator("body").inner_text()
    screenshot(page, "foundation-03-chart")


def test_the_chart_is_usable_on_a_phone(phone_page, live_server, nurse, screenshot):
    patient = make_patient(nurse.clinic, "A-5151", "Mobile", "Viewer")
    browser_login(phone_page, live_server, nurse)
    phone_page.wait_for_url(f"{live_server.url}/worklist/")
    phone_page.goto(f"{live_server.url}/patients/{patient.public_id}/")
    phone_page.wait_for_selector("h1:has-text('Viewer, Mobile')")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the chart scrolls sideways on a phone ({width}px)"
    screenshot(phone_page, "foundation-04-chart-phone")
