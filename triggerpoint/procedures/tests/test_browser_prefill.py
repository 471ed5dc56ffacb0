"""Browser: a note started after an ultrasound screening opens with the plan, marked; a changed field loses its mark."""

from __future__ import annotations

import pytest

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_prefilled_guidance_is_marked_until_the_physician_changes_it(page, live_server, physician, patient, screenshot):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures.models import Procedure
    from triggerpoint.procedures.note_reads import clinic_today
    from triggerpoint.screening import services

    with acting_as(physician):
        services.create_screening(
            physician,
            patient,
            clinic_today(patient.clinic),
            {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
             "guidance": "ultrasound"},
        )
    browser_login(page, live_server, physician)
    page.goto(f"{live_server.url}/procedures/patients/{patient.public_id}/new/")
    page.get_by_role("button", name="Start note").click()
    page.wait_for_selector("#note-editor")

    badge = page.locator('[data-prefilled-for="guidance"]')
    assert badge.is_visible() and "Prefilled from the screening for" in badge.inner_text()
    assert page.locator('[data-field="guidance"][value="ultrasound"]').is_checked()
    assert page.locator('#sites-table tr[data-muscle="upper_trapezius"][data-side="right"]').count() == 1
    screenshot(page, "procedures-editor-prefilled")

    page.check('[data-field="guidance"][value="landmark"]')
    assert badge.is_hidden()
    assert page.locator('[data-prefilled-for="sites"]').is_visible()
    page.wait_for_selector('#note-editor[data-state="saved"]')
    procedure = Procedure.objects.get(patient=patient)
    assert procedure.guidance == "landmark"
    assert "guidance" not in procedure.prefilled_from and "sites" in procedure.prefilled_from
