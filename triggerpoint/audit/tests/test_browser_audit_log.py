"""In a real browser: from a chart, one click answers "who has opened this chart"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from triggerpoint.audit import services as audit
from triggerpoint.conftest import browser_login, make_patient, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_who_opened_this_chart_from_the_chart(page, live_server, clinic_a, nurse, screenshot):
    patient = make_patient(clinic_a, "A-7001", "Harriet", "Quill")
    other = make_patient(clinic_a, "A-7002", "Someone", "Else")
    audit.record("patients.patient.viewed", obj=patient, actor=nurse)
    audit.record("patients.patient.viewed", obj=other, actor=nurse)
    # The medical director: physician and clinic admin, so the chart and the log are both theirs.
    director = make_staff("dora.director", "physician", clinic_a)
    director.groups.add(Group.objects.get_or_create(name="clinic_admin")[0])

    browser_login(page, live_server, director)
    page.wait_for_url(f"{live_server.url}/worklist/")
    page.goto(f"{live_server.url}/patients/{patient.public_id}/")
    page.click("text=Who has opened this chart")
    expect(page.locator("h1")).to_contain_text("who opened Quill, Harriet (A-7001)")
    table = page.locator("table.data")
    expect(table).to_contain_text("nina.nurse")
    expect(table).to_contain_text("dora.director")  # opening the chart just now is in the answer too
    expect(table).not_to_contain_text("A-7002")
    screenshot(page, "admin-01-who-opened-this-chart")
