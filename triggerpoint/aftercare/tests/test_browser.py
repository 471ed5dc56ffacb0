"""The patient plan page on a phone, opened from the link in the first message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from triggerpoint.aftercare.models import TaskCheck
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.notifications import services as outbox
from triggerpoint.patients.models import RiskFactor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_ticks_todays_tasks_on_a_phone(phone_page, live_server, screenshot, patient):
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="diabetes")
    plan = plan_for(
        signed_procedure(
            patient,
            sites=(("upper_trapezius", "left"), ("upper_trapezius", "right")),
            drugs=("lidocaine", "triamcinolone"),
            on=timezone.localdate() - timedelta(days=1),
        )
    )
    _link, token = outbox.issue_link(patient, "aftercare.plan", plan, timedelta(days=30))
    errors: list[str] = []
    phone_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    phone_page.goto(f"{live_server.url}/aftercare/p/{token}/")
    assert phone_page.locator("h1").inner_text() == "Your aftercare plan"
    today = phone_page.locator("#day-1")
    assert today.locator("h2").inner_text().startswith("Today: day 1 of 10")  # today's tasks come first
    assert phone_page.locator("#day-2").get_attribute("open") is None  # the other days are folded
    assert phone_page.locator(".ac-warnings").is_visible()
    # Large type and touch-sized targets on a 390 px wide screen, no sideways scrolling.
    first_task = today.locator(".ac-check").first
    box = first_task.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    font_px = phone_page.evaluate("parseFloat(getComputedStyle(document.querySelector('.ac-text')).fontSize)")
    assert font_px >= 17
    screenshot(phone_page, "aftercare-plan-phone", full_page=False)
    screenshot(phone_page, "aftercare-plan-phone-full")

    first_task.click()
    phone_page.wait_for_selector("#day-1 .ac-task.is-done")
    assert today.locator(".ac-check").first.get_attribute("aria-pressed") == "true"
    assert phone_page.locator("#progress-1").inner_text().endswith("1/3")
    assert TaskCheck.objects.get(plan=plan, day_number=1).done
    today.scroll_into_view_if_needed()
    screenshot(phone_page, "aftercare-plan-phone-ticked", full_page=False)

    # Untick again (a mistaken tap is undone the same way).
    today.locator(".ac-task.is-done .ac-check").first.click()
    phone_page.wait_for_selector("#day-1 .ac-task.is-done", state="detached")
    assert not TaskCheck.objects.get(plan=plan, day_number=1).done
    assert errors == []  # no CSP violations or script errors


def test_the_clinician_sees_the_plan_and_its_outbox(page, live_server, screenshot, patient, physician):
    from triggerpoint.conftest import browser_login

    plan = plan_for(signed_procedure(patient, sites=(("infraspinatus", "right"),), drugs=("lidocaine",)))
    browser_login(page, live_server, physician)
    page.goto(f"{live_server.url}/aftercare/patient/{patient.public_id}/plan/{plan.public_id}/")
    assert page.locator("h1").inner_text().startswith("Aftercare plan")
    assert page.locator("text=Outbox").is_visible()
    assert page.locator("table.data").first.locator("tbody tr").count() >= 5
    screenshot(page, "aftercare-plan-clinician")


def test_an_article_reads_well_on_a_phone_in_spanish(phone_page, live_server, screenshot):
    phone_page.goto(f"{live_server.url}/aftercare/learn/risks-and-warning-signs/?lang=es")
    assert phone_page.locator("h1").count() == 1
    assert phone_page.locator("text=Revisado por última vez").is_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "aftercare-article-phone-es")


def test_the_portal_shows_the_plan_and_the_opt_out_on_a_phone(phone_page, live_server, screenshot, patient):
    from triggerpoint.conftest import browser_login

    plan = plan_for(signed_procedure(patient, on=timezone.localdate() - timedelta(days=2)))
    browser_login(phone_page, live_server, patient.portal_user)
    phone_page.goto(f"{live_server.url}/portal/")
    section = phone_page.locator("section", has_text="Your aftercare plan")
    assert section.locator("text=Today is day 2").is_visible()
    screenshot(phone_page, "aftercare-portal-phone")
    phone_page.once("dialog", lambda dialog: dialog.accept())
    section.locator("button", has_text="Stop reminders").click()
    phone_page.wait_for_selector("text=Reminders are stopped")
    assert not plan.patient.notifications.filter(status="pending").exists()
