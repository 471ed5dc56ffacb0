"""In a real browser: a patient on a phone reports breathlessness after an upper-trapezius injection,
sees the emergency instruction, and the clinician's worklist shows the alert."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_breathlessness_after_upper_trapezius_reaches_the_worklist(phone_page, page, live_server, nurse, physician,
                                                                   patient, screenshot):
    from triggerpoint.followup.checkins import schedule_checkins
    from triggerpoint.followup.models import Alert, CheckIn
    from triggerpoint.followup.tests.factories import rota, signed_procedure
    from triggerpoint.notifications.models import Notification
    from triggerpoint.notifications.services import issue_link

    nurse.email, nurse.first_name, nurse.last_name = "nina@clinic.example", "Nina", "Nurse"
    nurse.save()
    rota(patient.clinic, nurse)
    now = timezone.now()
    procedure = signed_procedure(patient, physician, on=timezone.localtime(now, patient.clinic.zone).date(),
                                 performed_at=now - timedelta(hours=3),
                                 sites=[("upper_trapezius", "left"), ("levator_scapulae", "left")])
    schedule_checkins(procedure, now=now)
    checkin = CheckIn.objects.filter(procedure=procedure).order_by("due_at").first()
    CheckIn.objects.filter(pk=checkin.pk).update(due_at=now - timedelta(minutes=1))  # the evening check-in is open
    _link, token = issue_link(patient, "followup.checkin", checkin, timedelta(hours=48))

    # The patient, on a phone, opens the link from the message.
    phone_page.goto(f"{live_server.url}/followup/c/{token}/")
    expect(phone_page.locator("h1")).to_have_text("How are you after your injections?")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the check-in form scrolls sideways on a phone ({width}px)"
    screenshot(phone_page, "followup-01-checkin-form-phone")

    started = time.monotonic()
    phone_page.get_by_label("Short of breath or having trouble breathing").check()
    phone_page.locator(".pain-scale label", has_text="5").first.click()
    phone_page.get_by_role("button", name="Send to my care team").click()
    result = phone_page.locator(".result")
    expect(result.locator("h1")).to_have_text("Call 911 now")
    elapsed = time.monotonic() - started
    expect(result).to_contain_text("collapsed lung")
    expect(phone_page.locator("a.call-911")).to_have_attribute("href", "tel:911")
    assert elapsed < 10, f"three taps and the answer took {elapsed:.1f}s"
    screenshot(phone_page, "followup-02-emergency-instruction-phone")

    alert = Alert.objects.get(checkin=checkin)
    assert alert.disposition == "emergency" and alert.status == "open"
    assert Notification.objects.filter(kind="followup.page", recipient_user=nurse).count() == 2

    # The on-call nurse opens the worklist: the alert is first, with the pneumothorax-risk site highlighted.
    browser_login(page, live_server, nurse)
    page.wait_for_url(f"{live_server.url}/worklist/")
    first_section = page.locator(".worklist-section").first
    expect(first_section.locator("h2")).to_contain_text("Follow-up alerts")
    card = first_section.locator(".fu-item").first
    expect(card).to_contain_text("Portalowner, Pat")
    expect(card.locator(".pill.sev-emergency")).to_have_text("Emergency")
    expect(card.locator(".site.ptx").first).to_contain_text("Upper trapezius")
    expect(card).to_contain_text("Short of breath")
    screenshot(page, "followup-03-worklist-alert")

    card.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{live_server.url}/worklist/")
    expect(page.locator(".messages")).to_contain_text("acknowledged")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == nurse

    page.goto(f"{live_server.url}/followup/p/{patient.public_id}/alerts/{alert.public_id}/")
    expect(page.locator("body")).to_contain_text("TRI-EMERG-PNEUMOTHORAX")
    screenshot(page, "followup-04-alert-page")


def test_the_portal_on_a_phone_offers_the_due_check_in_and_pages_for_a_fever(phone_page, live_server, nurse, physician,
                                                                            patient, screenshot):
    from triggerpoint.followup.checkins import schedule_checkins
    from triggerpoint.followup.models import Alert, CheckIn
    from triggerpoint.followup.tests.factories import rota, signed_procedure

    rota(patient.clinic, nurse)
    now = timezone.now()
    procedure = signed_procedure(patient, physician,
                                 on=timezone.localtime(now, patient.clinic.zone).date() - timedelta(days=1),
                                 performed_at=now - timedelta(days=1), sites=[("gluteus_medius", "left")])
    schedule_checkins(procedure, now=now - timedelta(hours=20))
    due = CheckIn.objects.filter(procedure=procedure, due_at__lte=now, expires_at__gt=now).order_by("-due_at").first()
    assert due is not None

    browser_login(phone_page, live_server, patient.portal_user)
    phone_page.wait_for_url(f"{live_server.url}/portal/")
    expect(phone_page.locator("body")).to_contain_text("How are you after your injections?")
    screenshot(phone_page, "followup-05-portal-phone")
    phone_page.get_by_role("link", name="Answer your check-in").first.click()
    phone_page.get_by_label("Redness at the injection site that is spreading or not going away").check()
    phone_page.fill("#id_temperature", "38.6")
    phone_page.locator(".segmented label", has_text="°C").click()
    phone_page.get_by_role("button", name="Send to my care team").click()
    expect(phone_page.locator(".result h1")).to_have_text("We are paging the on-call clinician")
    screenshot(phone_page, "followup-06-urgent-instruction-phone")
    assert Alert.objects.get(patient=patient).disposition == "urgent"

    # A wrong unit is refused with a message, not guessed.
    phone_page.goto(f"{live_server.url}/followup/my/report/{procedure.public_id}/")
    phone_page.fill("#id_temperature", "101.5")
    phone_page.locator(".segmented label", has_text="°C").click()
    phone_page.get_by_role("button", name="Send to my care team").click()
    expect(phone_page.locator("#checkin-errors")).to_contain_text("not a body temperature we can use")
    screenshot(phone_page, "followup-07-implausible-temperature-phone", full_page=False)
