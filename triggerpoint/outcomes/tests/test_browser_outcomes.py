"""In a real browser: a patient's outcome chart, the clinic dashboard, and a patient's questionnaire on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login, make_patient
from triggerpoint.outcomes.tests.factories import answer, signed_procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history(patient, physician):
    today = timezone.localdate()
    first = signed_procedure(patient, physician, today - timedelta(days=200), pre=8, post=3, guidance="ultrasound",
                             sites=(("upper_trapezius", "left"), ("upper_trapezius", "right"), ("levator_scapulae", "left")))
    answer(first, "2w", days=14, pain=3, relief=70)
    answer(first, "6w", days=43, pain=4, relief=55)
    answer(first, "12w", days=85, pain=7, relief=20)
    second = signed_procedure(patient, physician, today - timedelta(days=95), pre=7, post=2,
                              sites=(("upper_trapezius", "left"),), drugs=("bupivacaine",))
    answer(second, "2w", days=15, pain=2, relief=80)
    answer(second, "6w", days=42, pain=3, relief=60)
    answer(second, "12w", days=84, pain=5, relief=35)
    third = signed_procedure(patient, physician, today - timedelta(days=15), pre=7, post=1,
                             sites=(("levator_scapulae", "right"),))
    return third


def test_clinician_opens_a_patients_outcome_chart_and_the_clinic_dashboard(page, live_server, physician, screenshot):
    patient = make_patient(physician.clinic, "A-7001", "Harriet", "Quill")
    _history(patient, physician)
    for i in range(6):
        other = make_patient(physician.clinic, f"A-71{i}", f"Other{i}", "Person")
        procedure = signed_procedure(other, physician, timezone.localdate() - timedelta(days=60 + i * 9),
                                     guidance="ultrasound" if i % 2 else "landmark", pre=6 + i % 3)
        answer(procedure, "2w", days=14, pain=2 + i % 4, relief=[70, 40, 60, 80, 30, 55][i])
        answer(procedure, "6w", days=42, pain=3 + i % 4, relief=[50, 20, 40, 60, 10, 45][i])

    browser_login(page, live_server, physician)
    page.wait_for_url(f"{live_server.url}/worklist/")
    page.goto(f"{live_server.url}/patients/{patient.public_id}/")
    page.click(f"a[href='/outcomes/patients/{patient.public_id}/']")
    page.wait_for_selector("h1:has-text('Outcomes')")
    expect(page.locator("svg.chart")).to_be_visible()
    assert page.locator("svg.chart circle.pt").count() >= 9
    assert page.locator("svg.chart .proc-label").count() == 3
    expect(page.locator(".verdict")).to_contain_text("repeat policy")
    screenshot(page, "outcomes-01-patient-chart")

    page.click("nav.shell-nav a:has-text('Analytics')")
    page.wait_for_selector("h1:has-text('Clinic outcomes')")
    expect(page.locator(".kpi").first).to_contain_text("9")
    assert page.locator("svg.chart polyline.km-line").count() >= 1
    screenshot(page, "outcomes-02-dashboard")
    page.click(".dimension-tabs a:has-text('Injectate')")
    page.wait_for_selector(".dimension-tabs a.active:has-text('Injectate')")
    screenshot(page, "outcomes-03-dashboard-by-injectate", full_page=False)


def test_a_patient_answers_the_two_week_questionnaire_on_a_phone(phone_page, live_server, patient, physician, screenshot):
    from triggerpoint.outcomes.models import OutcomeRequest

    _history(patient, physician)
    request = OutcomeRequest.objects.get(procedure__procedure_date=timezone.localdate() - timedelta(days=15), time_point="2w")
    browser_login(phone_page, live_server, patient.portal_user)
    phone_page.wait_for_url(f"{live_server.url}/portal/")
    phone_page.click(f"a[href='/outcomes/portal/questionnaires/{request.public_id}/']")
    phone_page.wait_for_selector("h1:has-text('How is your pain?')")
    for name, value in (("nrs_pain__now", "3"), ("nrs_pain__average", "4"), ("nrs_pain__worst", "6"),
                        ("percent_relief__relief", "60"), ("pgic__change", "2"),
                        ("peg3__pain", "3"), ("peg3__enjoyment", "2"), ("peg3__activity", "4")):
        phone_page.click(f"input[name='{name}'][value='{value}'] + span")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questionnaire scrolls sideways on a phone ({width}px)"
    screenshot(phone_page, "outcomes-04-questionnaire-phone")
    phone_page.click("main button[type=submit]")
    phone_page.wait_for_selector("h1:has-text('Thank you')")
    phone_page.goto(f"{live_server.url}/outcomes/portal/diary/")
    phone_page.click("input[name='nrs_pain__now'][value='4'] + span")
    phone_page.click("main button[type=submit]")
    expect(phone_page.locator(".messages")).to_contain_text("Saved")
    screenshot(phone_page, "outcomes-05-diary-phone")
