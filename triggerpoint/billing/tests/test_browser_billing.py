"""In a real browser, as the front desk: the notes to bill with their claim lines, marked billed in one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_front_desk_marks_a_signed_note_billed(page, live_server, front_desk, patient, sign_note, screenshot):
    from triggerpoint.billing.models import BillingHandoff

    note = sign_note(patient)
    browser_login(page, live_server, front_desk)
    page.wait_for_url(f"{live_server.url}/worklist/")
    page.click("nav >> text=Billing")
    table = page.locator("table.billing")
    expect(table).to_contain_text("20553")
    expect(table).to_contain_text(patient.mrn)
    expect(table).to_contain_text("M79.18")
    screenshot(page, "billing-01-to-bill")

    page.check(f"#note-{note.public_id}")
    page.click("text=Mark selected billed")
    expect(page.locator("body")).to_contain_text("1 note marked billed")
    assert BillingHandoff.objects.get(procedure=note).is_billed
    page.select_option("#status", "billed")
    page.click("form.toolbar button[type=submit]")
    expect(page.locator("table.billing")).to_contain_text("Billed")
    screenshot(page, "billing-02-billed")
