"""In a real browser: the patient answers on a phone through the link; the clinician reads the findings,
signs off, and the patient signs the consent on the tablet with a drawn signature."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _choose(pg, field: str, value: str):
    pg.locator(f"input[name='{field}'][value='{value}']").check()


def test_patient_answers_on_a_phone_and_the_physician_signs_off(
    phone_page, page, live_server, physician, patient, screenshot
):
    from triggerpoint.core.context import acting_as
    from triggerpoint.notifications.models import Notification
    from triggerpoint.screening import questionnaire_link, services
    from triggerpoint.screening.models import Consent, ScreeningRecord

    plan = {"sites": [{"muscle": "upper_trapezius", "side": "right"}, {"muscle": "rhomboids", "side": "right"}],
            "injectates": [{"drug": "lidocaine"}], "guidance": "landmark", "trigger_points_documented": True}
    with acting_as(physician):
        screening = services.create_screening(physician, patient, timezone.localdate() + timedelta(days=4), plan)
        questionnaire_link.send_questionnaire_link(physician, screening, channel="email")
    link_path = re.search(r"https?://[^/]+(/screening/q/[^/\s]+/)", Notification.objects.get().body).group(1)

    # --- the patient, on a phone, no login
    phone = phone_page
    phone.goto(f"{live_server.url}{link_path}")
    expect(phone.locator("h1")).to_have_text("Before your visit")
    expect(phone.locator("[data-follow='recent_fever']")).to_be_hidden()  # follow-up dates appear only after "Yes"
    screenshot(phone, "screening-01-phone-questionnaire")
    _choose(phone, "recent_fever", "yes")
    expect(phone.locator("[data-follow='recent_fever']")).to_be_visible()
    fever_day = (timezone.localdate() - timedelta(days=10)).isoformat()
    phone.fill("input[name='recent_fever_date']", fever_day)
    for field in ("recent_antibiotics", "recent_illness", "recent_hospital", "feels_unwell", "on_antibiotics",
                  "infection_at_site", "pregnant", "prior_vasovagal"):
        _choose(phone, field, "no")
    phone.fill("textarea[name='notes']", "Neck pain is worse after long drives.")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questionnaire scrolls sideways on a phone ({width}px)"
    screenshot(phone, "screening-02-phone-answered")
    phone.click("button[type=submit]")
    expect(phone.locator("h1")).to_contain_text("Thank you")
    screenshot(phone, "screening-03-phone-thanks")
    phone.click("text=How to get ready for your visit")
    expect(phone.locator("h1")).to_have_text("Getting ready for your visit")
    screenshot(phone, "screening-04-phone-preparation")

    screening.refresh_from_db()
    assert screening.answers_source == "patient_link"
    assert screening.answers["events"] == [{"type": "fever", "date": fever_day}]
    assert screening.status == "review"

    # --- the physician at the desk
    browser_login(page, live_server, physician)
    page.wait_for_url(f"{live_server.url}/worklist/")
    expect(page.locator(".worklist-section", has_text="Screenings needing review")).to_contain_text(patient.family_name)
    page.click(f"a[href='/screening/patient/{patient.public_id}/{screening.public_id}/']")
    recent = page.locator(".finding[data-rule='SCR-RECENT-ILLNESS']")
    expect(recent).to_contain_text("within the 28 days before the procedure")
    expect(page.locator(".finding[data-rule='SCR-PNEUMOTHORAX-SITE']")).to_contain_text("Ultrasound guidance is recommended")
    basis = recent.locator("details.basis")
    expect(basis.locator("p")).to_be_hidden()
    basis.locator("summary").click()
    expect(basis.locator("p")).to_contain_text("4 weeks")
    screenshot(page, "screening-05-clinician-findings")
    page.fill("textarea[name='note']", "Fever resolved 9 days ago; take temperature on arrival.")
    page.click("button:has-text('Review and sign off')")
    expect(page.locator(".signoff")).to_contain_text("Reviewed and signed off")
    screenshot(page, "screening-06-clinician-signed-off")
    screening.refresh_from_db()
    assert screening.reviewed_by == physician

    # --- consent on the tablet: drawn signature
    page.set_viewport_size({"width": 1024, "height": 1366})
    page.click("button:has-text('Generate consent form from the plan')")
    expect(page.locator(".consent-doc h1")).to_contain_text("Consent to trigger point injection")
    expect(page.locator(".risk-pneumothorax")).to_contain_text("Collapsed lung")
    canvas = page.locator(".signature-pad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(box["x"] + 30 + step * 18, box["y"] + box["height"] * (0.6 - 0.25 * ((step % 6) / 6)))
    page.mouse.up()
    assert page.locator("input[name='signature_image']").input_value().startswith("data:image/png;base64,")
    page.check("input[name='acknowledged']")
    page.fill("input[name='witness_name']", "Nina Nurse")
    screenshot(page, "screening-07-tablet-consent-drawn", full_page=False)
    page.click("button:has-text('Sign consent')")
    expect(page.locator(".signed-block")).to_contain_text("Pat Portalowner")
    screenshot(page, "screening-08-consent-signed")
    consent = Consent.objects.get()
    assert consent.signature_kind == "drawn" and consent.signature_image.startswith("data:image/png;base64,")
    assert ScreeningRecord.objects.get().reviewed_at is not None
