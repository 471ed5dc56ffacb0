"""Browser: document a three-muscle procedure from the body map, see the dose total and 20553, sign, get the PDF."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone

from triggerpoint.atlas.tests.test_browser_atlas import tap_zone  # the atlas's own way to tap a zone
from triggerpoint.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_physician_documents_signs_and_prints_a_three_muscle_procedure(
    page, live_server, physician, patient, screenshot, all_receivers
):
    from triggerpoint.procedures.models import Procedure

    patient.weight_measured_on = timezone.localdate() - timedelta(days=3)
    patient.save()
    browser_login(page, live_server, physician)
    page.goto(f"{live_server.url}/procedures/patients/{patient.public_id}/new/")
    page.get_by_role("button", name="Start note").click()
    page.wait_for_selector("#note-editor")

    # The body map: the pain is at the side of the neck and the temples on both sides.
    for zone in ("neck-side-l", "temple-l", "neck-side-r", "temple-r"):
        tap_zone(page, f"front--{zone}")
    page.wait_for_selector("#suggestion-chips")
    page.locator('#suggestion-chips [data-add-muscle="upper_trapezius"][data-add-side="left"]').click()
    page.locator('#suggestion-chips [data-add-muscle="upper_trapezius"][data-add-side="right"]').click()
    # The third muscle from the search box.
    page.fill("#muscle-search", "levator")
    page.locator('#muscle-results [data-add-muscle="levator_scapulae"][data-add-side="left"]').click()
    assert page.locator("#sites-table tbody tr[data-site-index]").count() == 3

    # Set the mix once: 1 % lidocaine, 2 mL per site.
    page.click("#add-mix")
    page.fill('#mix-table [aria-label="Mix drug 1 mL per site"]', "2")
    page.fill('#mix-table [aria-label="Mix drug 1 lot"]', "LD2291")
    page.fill('#sites-table [aria-label="Left Upper trapezius insertions"]', "3")

    # Adjust one site: 0.5 mL of triamcinolone 40 mg/mL at the left upper trapezius only.
    page.locator('#sites-table tr[data-muscle="upper_trapezius"][data-side="left"]').get_by_role("button", name="+ drug").click()
    page.fill('[aria-label="Left Upper trapezius injectate 1 volume mL"]', "0.5")
    # Its vial, for billing: a single-dose 40 mg vial, so 20 mg was discarded (JW line).
    assert page.locator('[aria-label="Left Upper trapezius injectate 1 amount discarded (mg or units, 0 if none)"]').is_disabled()
    page.fill('[aria-label="Left Upper trapezius injectate 1 NDC"]', "12345-6789-01")
    page.select_option('[aria-label="Left Upper trapezius injectate 1 vial"]', "single")
    page.fill('[aria-label="Left Upper trapezius injectate 1 amount discarded (mg or units, 0 if none)"]', "20")

    # The running total and the code update as the note is written.
    dose_total = page.locator('#dose-table tr[data-drug="lidocaine"] .dose-total')
    dose_total.filter(has_text="60.0 mg").wait_for()
    page.locator("#codes-list").filter(has_text="20553").wait_for()
    page.locator("#codes-list").filter(has_text="J3301").wait_for()
    page.locator("#codes-list").filter(has_text="JW").wait_for()
    assert "20.0 mg" in page.locator('#dose-table tr[data-drug="triamcinolone"]').inner_text()

    page.fill('[data-field="pre_nrs"]', "7")
    page.fill('[data-field="post_nrs"]', "3")
    page.fill('[data-field="observation_minutes"]', "15")
    page.select_option('[data-field="discharge_condition"]', "stable")
    page.check('[data-field="timeout_performed"][value="yes"]')
    page.fill('[data-field="timeout_time"]', "14:05")
    page.select_option('[data-field="site_marked"]', "yes")
    page.select_option('[data-field="skin_prep_agent"]', "chlorhexidine_alcohol")
    page.select_option('[data-field="sterile_technique"]', "aseptic_no_touch")
    page.wait_for_selector('#note-editor[data-state="saved"]')
    assert page.locator("#save-status").inner_text().startswith("Saved")
    screenshot(page, "procedures-editor-three-muscles")

    page.get_by_role("button", name="Sign note").click()
    page.wait_for_selector("text=Procedure note signed.")
    screenshot(page, "procedures-signed-note")

    procedure = Procedure.objects.get(patient=patient)
    assert procedure.status == "signed" and procedure.signed_by == physician
    assert [line["code"] for line in procedure.codes["cpt"]] == ["20553"]
    assert [(line["code"], line["units"], line["modifiers"]) for line in procedure.codes["hcpcs"]] == [
        ("J3301", 2, []), ("J3301", 2, ["JW"])]
    injectate = procedure.sites.get(muscle="upper_trapezius", side="left").injectates.get()
    assert (injectate.ndc, injectate.single_dose_vial, injectate.discarded) == ("12345-6789-01", True, 20)
    assert procedure.dose_check["items"][0]["total_mg"] == 60.0
    assert procedure.sites.get(muscle="upper_trapezius", side="left").insertions == 3
    assert (procedure.timeout_performed, procedure.timeout_time.strftime("%H:%M")) == ("yes", "14:05")
    assert (procedure.site_marked, procedure.skin_prep_agent, procedure.sterile_technique) == (
        "yes", "chlorhexidine_alcohol", "aseptic_no_touch"
    )

    # The PDF: fetched with the same session, checked for content, first page rendered to PNG.
    response = page.request.get(f"{live_server.url}/procedures/patients/{patient.public_id}/{procedure.public_id}/pdf/")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    data = response.body()
    assert data[:4] == b"%PDF"
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    for expected in ("Procedure note", patient.mrn, "Upper trapezius", "Levator scapulae", "60", "LD2291", "Triamcinolone",
                     "Time-out", "performed at 14:05", "Electronically signed"):
        assert expected in text, expected
    # The PDF is the legal record: the billing codes stay on the coder's view.
    for absent in ("20553", "J3301"):
        assert absent not in text, absent
    pdf_path = ARTIFACTS / "procedure-note.pdf"
    pdf_path.write_bytes(data)
    if shutil.which("pdftoppm"):
        target = ARTIFACTS / "screenshots" / "procedures-pdf-page1"
        subprocess.run(  # noqa: S603 - fixed arguments, a local file we just wrote
            ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(target)],
            check=True,
        )
        assert (target.with_suffix(".png")).stat().st_size > 10_000


def test_a_conflicting_autosave_is_shown_and_never_overwrites(page, live_server, physician, nurse, patient, screenshot):
    """The nurse saves the draft while the physician has it open: the physician's next autosave is refused."""
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting
    from triggerpoint.procedures.models import Procedure

    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient)
    browser_login(page, live_server, physician)
    page.goto(f"{live_server.url}/procedures/patients/{patient.public_id}/{procedure.public_id}/edit/")
    page.wait_for_selector("#note-editor")

    with acting_as(nurse):
        drafting.autosave_draft(nurse, procedure, 1, {"notes": "The nurse's note", "sites": [
            {"muscle": "gluteus_medius", "side": "left"}]})

    page.fill('[data-field="notes"]', "The physician's note")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "saved version 2" in page.locator("#conflict").inner_text()
    assert page.locator("#sign-button").is_disabled()
    page.locator("#notes-card").scroll_into_view_if_needed()
    screenshot(page, "procedures-editor-conflict", full_page=False)
    stored = Procedure.objects.get(pk=procedure.pk)
    assert stored.notes == "The nurse's note" and stored.version == 2

    page.get_by_role("link", name="Load their version").click()
    page.wait_for_selector('#sites-table tr[data-muscle="gluteus_medius"]')
