"""In a real browser: the assessment editor saves as the physician types, and never over someone else's save.

Typing autosaves (a reload shows the text); offline the text stays and is saved when the connection
returns; a refused field is listed and saved once fixed; a second tab left at an older version is refused with the conflict banner, keeps its text,
and writes nothing. Screenshots: test-artifacts/screenshots/assessment-autosave-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_autosaves_and_a_stale_second_tab_is_refused(page, live_server, physician, patient, screenshot):
    from triggerpoint.assessment.models import Visit
    from triggerpoint.assessment.tests.factories import draft_visit

    visit = draft_visit(physician, patient)
    url = f"{live_server.url}/assessments/patients/{patient.public_id}/{visit.public_id}/"
    browser_login(page, live_server, physician)
    page.wait_for_url(f"{live_server.url}/worklist/")
    page.goto(url)
    status = page.locator("#save-status")
    expect(status).to_contain_text("changes save as you type")
    expect(page.locator("#save-retry")).to_be_hidden()

    # Typing saves after a pause; the status line (aria-live) gives the time and the new version.
    page.locator("#goals").press_sequentially("Walk the dog without stopping", delay=20)
    expect(status).to_contain_text("Saved ")
    expect(status).to_contain_text("version 2")
    expect(page.locator("#visit-form")).to_have_attribute("data-state", "saved")
    assert Visit.objects.get(pk=visit.pk).goals == "Walk the dog without stopping"
    page.locator("#plan").scroll_into_view_if_needed()
    screenshot(page, "assessment-autosave-01-saved", full_page=False)

    page.reload()
    expect(page.locator("#goals")).to_have_value("Walk the dog without stopping")

    # Offline: the text stays, the line says so, and it is saved when the connection returns.
    page.context.set_offline(True)
    page.fill("#easing_factors", "Heat pack in the evening")
    expect(status).to_contain_text("Offline")
    expect(page.locator("#save-retry")).to_be_visible()
    expect(page.locator("#easing_factors")).to_have_value("Heat pack in the evening")
    assert Visit.objects.get(pk=visit.pk).easing_factors == ""
    page.context.set_offline(False)
    expect(status).to_contain_text("version 3")
    expect(page.locator("#save-retry")).to_be_hidden()
    assert Visit.objects.get(pk=visit.pk).easing_factors == "Heat pack in the evening"

    # A refused field: the problem is listed, nothing is saved, and fixing it saves.
    page.fill("#onset_date", "2027-01-15")
    problems = page.locator("#save-problems")
    expect(problems).to_be_visible()
    expect(problems).to_contain_text("after the visit date")
    expect(status).to_contain_text("Not saved — see the problems above")
    assert Visit.objects.get(pk=visit.pk).onset_date is None
    page.fill("#onset_date", "2026-06-01")
    expect(status).to_contain_text("version 4")
    expect(problems).to_be_hidden()

    # A second tab opened now (version 4); the first tab saves again (version 5); the second is stale.
    second = page.context.new_page()
    second.goto(url)
    expect(second.locator("#save-status")).to_contain_text("version 4")
    page.fill("#plan_notes", "Review the home stretches at follow-up")
    expect(status).to_contain_text("version 5")

    second.fill("#effect_on_sleep", "Wakes twice a night")
    banner = second.locator("#conflict")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("saved version 5")
    expect(banner).to_contain_text("this page had version 4")
    expect(banner).to_contain_text("saved from another tab or window")  # the same physician, in the first tab
    expect(second.locator("#save-status")).to_contain_text("Not saved — conflict")
    expect(second.locator("#save-button")).to_be_disabled()
    expect(second.locator("#sign-button")).to_be_disabled()
    expect(second.locator("#effect_on_sleep")).to_have_value("Wakes twice a night")  # their text stays on screen
    second.locator("#effect_on_sleep").scroll_into_view_if_needed()
    screenshot(second, "assessment-autosave-02-conflict", full_page=False)

    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.version, stored.effect_on_sleep, stored.plan_notes) == (
        5, "", "Review the home stretches at follow-up"
    )

    # "Load their version" shows what was saved, with the first tab's words.
    second.get_by_role("link", name="Load their version").click()
    expect(second.locator("#plan_notes")).to_have_value("Review the home stretches at follow-up")
    expect(second.locator("#conflict")).to_be_hidden()
    second.close()
