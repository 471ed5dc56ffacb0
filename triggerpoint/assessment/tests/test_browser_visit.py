"""In a real browser: a physician completes an assessment visit end to end.

Drawing → live suggestions → scores → exam of two muscles (one from a suggestion in one
click) → diagnosis with the code picker (a category header refused) → plan pre-filled
from the active trigger point → save and sign → summary, patient version. Screenshots
go to test-artifacts/screenshots/assessment-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from triggerpoint.atlas.tests.test_browser_atlas import tap_zone  # the atlas's own way to tap a zone
from triggerpoint.conftest import browser_login, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _score(page, name: str, value: int) -> None:
    page.locator(f"input[name={name}][value='{value}'] + span").click()


def test_a_physician_completes_and_signs_an_assessment_visit(page, live_server, physician, screenshot):
    from triggerpoint.assessment.models import Visit
    from triggerpoint.patients.models import Allergy

    patient = make_patient(physician.clinic, "A-7070", "Rosa", "Delgado")
    Allergy.objects.create(clinic=patient.clinic, patient=patient, substance="Latex", severity="mild")
    browser_login(page, live_server, physician)
    page.wait_for_url(f"{live_server.url}/worklist/")

    page.goto(f"{live_server.url}/assessments/patients/{patient.public_id}/")
    page.fill("#new-complaint", "Right neck pain with headaches")
    page.click("text=Start assessment visit")
    page.wait_for_selector("h2:has-text('History')")

    # History
    page.fill("#onset_date", "2026-05-04")
    page.check("input[name=cause][value=poor_posture]")
    page.check("input[name=cause][value=stress]")
    page.fill("#aggravating_factors", "Long drives, looking down at the phone")
    page.fill("#easing_factors", "Heat, lying down")
    page.fill("#effect_on_sleep", "Wakes twice a night")
    page.check("input[name=prior][value=massage]")
    page.select_option("select[name=prior_outcome_massage]", "partly_helped")
    screenshot(page, "assessment-01-history", full_page=False)

    # Scores
    page.click("a[href='#scores']")
    for name, value in (("nrs_now", 6), ("nrs_average", 5), ("nrs_worst", 8),
                        ("peg_pain", 5), ("peg_enjoyment", 6), ("peg_activity", 4)):
        _score(page, name, value)

    # Pain drawing: the suggestions beside the exam form update as zones are tapped
    page.locator("#front--neck-side-r").evaluate("el => el.scrollIntoView({block: 'center'})")
    tap_zone(page, "front--neck-side-r")
    page.fill("[data-bodymap-number]", "7")
    tap_zone(page, "front--temple-r")
    page.fill("[data-bodymap-number]", "5")
    suggestions = page.locator("#suggestions")
    expect(suggestions.locator("[data-examine-muscle=upper_trapezius][data-examine-side=right]")).to_be_visible()
    page.locator("#drawing").scroll_into_view_if_needed()
    screenshot(page, "assessment-02-drawing", full_page=False)

    # Exam, muscle 1: one click on the suggestion fills muscle and side
    suggestions.locator("[data-examine-muscle=upper_trapezius][data-examine-side=right]").click()
    expect(page.locator("#exam_muscle")).to_have_value("upper_trapezius")
    expect(page.locator("input[name=exam_side][value=right]")).to_be_checked()
    for flag in ("taut_band", "tender_spot", "recognised_pain", "spontaneous_pain", "local_twitch_response",
                 "focal_nodule"):
        page.check(f"input[name=exam_{flag}]")
    page.check("input[name=exam_referred][value=temple-r]")
    page.fill("#exam_ppt", "2.5")
    page.click("#exam-add")
    results = page.locator("#exam-results")
    expect(results).to_contain_text("Upper trapezius, right")
    expect(results).to_contain_text("Active trigger point")
    expect(page.locator("#exam_muscle")).to_have_value("")  # cleared for the next muscle

    # Exam, muscle 2: picked by hand; only a taut band with a tender spot -> latent
    page.select_option("#exam_muscle", "levator_scapulae")
    page.check("input[name=exam_side][value=right]")
    page.check("input[name=exam_taut_band]")
    page.check("input[name=exam_tender_spot]")
    page.click("#exam-add")
    expect(results).to_contain_text("Levator scapulae, right")
    expect(results).to_contain_text("Latent trigger point")
    results.locator("details.basis").first.locator("summary").click()
    page.locator("#exam").scroll_into_view_if_needed()
    screenshot(page, "assessment-03-exam", full_page=False)

    # Diagnoses: a category header is refused with the billable codes; the billable code is added
    page.fill("#dx-q", "M79.1")
    expect(page.locator("#dx-results")).to_contain_text("Myalgia of auxiliary muscles")
    page.locator("#dx-results button:has-text('M79.1 ')").first.click()
    expect(page.locator("#dx-list")).to_contain_text("category header")
    page.fill("#dx-q", "myalgia neck")
    page.locator("#dx-results button:has-text('M79.12')").click()
    expect(page.locator("#dx-list")).to_contain_text("Primary")
    page.fill("#dx-q", "cervicalgia")
    page.locator("#dx-results button:has-text('M54.2')").click()
    expect(page.locator("#dx-list tbody tr")).to_have_count(2)
    page.locator("#diagnoses").scroll_into_view_if_needed()
    screenshot(page, "assessment-04-diagnoses", full_page=False)

    # Plan: the active trigger point is pre-selected, the latent one is offered but not ticked
    expect(page.locator("input[name=planned_site][value='upper_trapezius:right']")).to_be_checked()
    expect(page.locator("input[name=planned_site][value='levator_scapulae:right']")).not_to_be_checked()
    page.select_option("select[name=inj_drug_1]", "lidocaine")
    page.fill("input[name=inj_conc_1]", "1%")
    page.fill("input[name=inj_vol_1]", "2")
    page.check("input[name=planned_technique][value=injection]")
    page.check("input[name=adjunct][value=home_stretching]")
    page.check("input[name=adjunct][value=physical_therapy]")
    page.fill("#goals", "Turn my head when I back out of the driveway")
    page.select_option("#follow_up_interval", "6_weeks")
    page.locator("#plan").scroll_into_view_if_needed()
    screenshot(page, "assessment-05-plan", full_page=False)
    screenshot(page, "assessment-06-whole-visit")

    # Sign (confirm dialog), land on the summary
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[value=sign]")
    page.wait_for_url("**/summary/")
    expect(page.locator(".status-pill")).to_contain_text("Signed")
    expect(page.locator("body")).to_contain_text("Upper trapezius, right")
    screenshot(page, "assessment-07-summary")

    visit = Visit.objects.get(patient=patient)
    assert visit.status == "signed" and visit.signed_by == physician
    assert visit.pain_drawing == {"neck-side-r": 7, "temple-r": 5}
    assert (visit.nrs_now, visit.nrs_average, visit.nrs_worst) == (6, 5, 8)
    assert float(visit.peg_score) == 5.0
    assert {(f.muscle, f.classification) for f in visit.exam_findings.all()} == {
        ("upper_trapezius", "active"), ("levator_scapulae", "latent")
    }
    assert [(d.code, d.is_primary) for d in visit.diagnoses.all()] == [("M79.12", True), ("M54.2", False)]
    assert visit.planned_sites == [{"muscle": "upper_trapezius", "side": "right"}]
    assert visit.causes == [{"id": "poor_posture", "detail": ""}, {"id": "stress", "detail": ""}]
    assert visit.follow_up_interval == "6_weeks"

    page.click("text=Patient version")
    page.wait_for_selector("h1:has-text('Your visit')")
    expect(page.locator("article")).to_contain_text("trigger point")
    screenshot(page, "assessment-08-patient-version")


def test_the_visit_page_fits_a_phone_and_the_summary_prints_without_the_shell(phone_page, live_server, physician, screenshot):
    from triggerpoint.assessment.tests.factories import draft_visit

    patient = make_patient(physician.clinic, "A-7171", "Tomas", "Price")
    visit = draft_visit(physician, patient, pain_drawing={"low-back-l": 7, "buttock-upper-l": 5}, nrs_average=6)
    browser_login(phone_page, live_server, physician)
    phone_page.wait_for_url(f"{live_server.url}/worklist/")
    phone_page.goto(f"{live_server.url}/assessments/patients/{patient.public_id}/{visit.public_id}/")
    phone_page.wait_for_selector("h2:has-text('Trigger point exam')")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the visit page scrolls sideways on a phone ({width}px)"
    phone_page.locator("#exam").scroll_into_view_if_needed()
    screenshot(phone_page, "assessment-09-exam-phone", full_page=False)
