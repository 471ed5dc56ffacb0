"""The note pages: editor, live checks, autosave, sign, amend, PDF, the chart timeline and the worklist."""

from __future__ import annotations

import json
from io import BytesIO

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.procedures import amendments, drafting
from triggerpoint.procedures.models import Procedure

pytestmark = pytest.mark.django_db


def _url(procedure, suffix=""):
    return f"/procedures/patients/{procedure.patient.public_id}/{procedure.public_id}/{suffix}"


def test_starting_a_note_opens_the_editor(on_procedure_day, login_as, physician, patient):
    client = login_as(physician)
    response = client.post(f"/procedures/patients/{patient.public_id}/new/", {"procedure_date": "2026-11-20"})
    procedure = Procedure.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == _url(procedure, "edit/")
    assert procedure.procedure_date.isoformat() == "2026-11-20"


def test_the_editor_carries_the_note_the_catalogues_and_the_body_map(saved_draft, login_as, physician):
    response = login_as(physician).get(_url(saved_draft, "edit/"))
    html = response.content.decode()
    assert response.status_code == 200
    for expected in ('id="note-document"', 'id="muscle-catalog"', 'id="drug-catalog"', "data-bodymap",
                     'data-mode="draw"', "procedures/note_editor.js", "20553", "60.0 mg"):
        assert expected in html, expected
    assert "<script>" not in html  # strict CSP: data blocks only (json_script), no inline code
    assert AuditEvent.objects.filter(action="procedures.procedure.viewed", details={"channel": "editor"}).exists()


def test_the_editor_offers_the_planned_muscles_of_the_linked_assessment(on_procedure_day, login_as, physician, patient):
    from triggerpoint.assessment.models import Visit

    visit = Visit.objects.create(clinic=patient.clinic, patient=patient, clinician=physician, visit_date=patient.created_at.date(),
                                 planned_sites=[{"muscle": "piriformis", "side": "right"}])
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, assessment=visit)
    html = login_as(physician).get(_url(procedure, "edit/")).content.decode()
    assert 'data-add-muscle="piriformis" data-add-side="right"' in html


def test_the_live_check_shows_the_running_total_and_the_code_without_saving(draft, login_as, physician, note_payload):
    response = login_as(physician).post(_url(draft, "live/"), {"document": json.dumps(note_payload)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "60.0 mg" in html and "20553" in html and "of 300.0 mg" in html
    assert Procedure.objects.get(pk=draft.pk).version == 1


def test_the_live_check_warns_over_the_maximum(draft, login_as, physician, note_payload):
    note_payload["mix"][0]["ml_per_site"] = 12
    html = login_as(physician).post(_url(draft, "live/"), {"document": json.dumps(note_payload)}).content.decode()
    assert "blocks signing" in html and "over its maximum" in html and 'data-live-blocks="true"' in html


def test_the_live_check_lists_input_problems(draft, login_as, physician):
    html = login_as(physician).post(_url(draft, "live/"), {"document": '{"sites": [{"muscle": "x", "side": "left"}]}'}).content.decode()
    assert "unknown muscle" in html


def test_body_map_zones_suggest_muscles(draft, login_as, physician):
    drawing = [{"zone": "neck-side-l", "intensity": 7}, {"zone": "temple-l", "intensity": 6}]
    html = login_as(physician).post(_url(draft, "suggest/"), {"drawing": json.dumps(drawing)}).content.decode()
    assert 'data-add-muscle="upper_trapezius" data-add-side="left"' in html


def test_the_autosave_endpoint_saves_and_reports_conflicts_and_problems(draft, login_as, physician, note_payload):
    client = login_as(physician)
    ok = client.post(_url(draft, "autosave/"), json.dumps(dict(note_payload, version=1)), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.post(_url(draft, "autosave/"), json.dumps(dict(note_payload, version=1)), content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["saved_by"] == physician.username
    bad = client.post(_url(draft, "autosave/"), json.dumps({"version": 2, "pre_nrs": 12}), content_type="application/json")
    assert bad.status_code == 422 and "pre_nrs must be from 0 to 10, got 12" in bad.json()["detail"]
    broken = client.post(_url(draft, "autosave/"), "{oops", content_type="application/json")
    assert broken.status_code == 422


def test_signing_from_the_page_redirects_to_the_signed_note(saved_draft, login_as, physician):
    client = login_as(physician)
    response = client.post(_url(saved_draft, "sign/"), {"version": str(saved_draft.version)})
    assert response.status_code == 302 and response["Location"] == _url(saved_draft)
    page = client.get(response["Location"]).content.decode()
    assert "Procedure note signed." in page and "Electronically signed by" in page and "Add an amendment" in page


def test_a_blocked_signature_returns_to_the_editor_with_the_reasons(draft, login_as, physician):
    client = login_as(physician)
    response = client.post(_url(draft, "sign/"), {"version": "1"}, follow=True)
    assert "Not signed: add at least one treated site" in response.content.decode()
    assert Procedure.objects.get(pk=draft.pk).status == "draft"


def test_an_amendment_is_shown_with_the_original(signed, login_as, physician):
    client = login_as(physician)
    client.post(_url(signed, "amend/"), {"reason": "Wrong side", "text": "Levator scapulae was on the right."})
    html = client.get(_url(signed)).content.decode()
    assert "Amendments" in html and "Wrong side" in html and "Levator scapulae was on the right." in html
    assert "Amended ×1" in html
    assert html.index("Electronically signed by") < html.index("Levator scapulae was on the right.")


def test_the_pdf_legal_record_has_the_clinical_content_signature_and_amendments(signed, login_as, physician):
    from pypdf import PdfReader

    with acting_as(physician):
        amendments.amend_procedure(physician, signed, reason="Typo in lot", text="Lot was LD2292.")
    response = login_as(physician).get(_url(signed, "pdf/"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content[:4] == b"%PDF"
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    for expected in ("Procedure note", "A-0001", "Upper trapezius", "Lidocaine", "60.0", "300.0", "Allergies",
                     "Universal Protocol", "performed at 14:05", "Chlorhexidine gluconate with alcohol",
                     "Aseptic no-touch technique", "Electronically signed", "Lot was LD2292.", "Typo in lot"):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="procedures.procedure.viewed", details={"channel": "pdf"}).exists()


def test_the_pdf_legal_record_leaves_billing_rule_ids_files_and_web_addresses_to_the_coder(signed, login_as, physician):
    import re

    from pypdf import PdfReader

    response = login_as(physician).get(_url(signed, "pdf/"))
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    for absent in ("20553", "Billing codes", "Medicare", "http", "www.", ".yaml", ".md", "Sources:"):
        assert absent not in text, absent
    assert not re.search(r"\b[A-Z]{3,}-[A-Z0-9]+(?:-[A-Z0-9]+)*\b", text), re.findall(r"\b[A-Z]{3,}-[A-Z0-9-]+", text)
    # The coder's web view of the same note keeps the codes and the payer warnings with their rule ids.
    page = login_as(physician).get(_url(signed)).content.decode()
    assert "20553" in page and "CODE-TPI-COUNT" in page


def test_a_draft_pdf_says_draft(saved_draft, login_as, physician):
    from pypdf import PdfReader

    response = login_as(physician).get(_url(saved_draft, "pdf/"))
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    assert "DRAFT" in text


def test_the_editor_of_a_signed_note_redirects_to_the_note(signed, login_as, physician):
    response = login_as(physician).get(_url(signed, "edit/"))
    assert response.status_code == 302 and response["Location"] == _url(signed)


def test_the_chart_timeline_shows_the_note_with_its_codes(signed, login_as, physician, patient):
    html = login_as(physician).get(f"/patients/{patient.public_id}/timeline/").content.decode()
    assert "Trigger point injection — 3 sites" in html
    assert "20553" in html and _url(signed) in html


def test_front_desk_sees_no_procedure_on_the_timeline(signed, patient):
    from triggerpoint.conftest import make_staff
    from triggerpoint.procedures import timeline

    desk = make_staff("desk.timeline", "front_desk", patient.clinic)
    assert timeline.entries(patient, desk) == []


def test_the_worklist_lists_unsigned_notes(saved_draft, login_as, physician):
    html = login_as(physician).get("/worklist/").content.decode()
    assert "Procedure notes to finish and sign" in html and _url(saved_draft, "edit/") in html


def test_the_worklist_offers_to_start_the_note_for_todays_screened_patients(login_as, physician, patient):
    from django.utils import timezone

    from triggerpoint.screening.models import ScreeningRecord

    today = timezone.localdate(timezone=patient.clinic.zone)
    ScreeningRecord.objects.create(clinic=patient.clinic, patient=patient, planned_procedure_date=today, status="ready")
    html = login_as(physician).get("/worklist/").content.decode()
    assert "Procedures today: start the note" in html and f"/procedures/patients/{patient.public_id}/new/" in html


def test_another_clinic_cannot_open_the_note_pages(saved_draft, login_as, physician_b):
    client = login_as(physician_b)
    for suffix in ("", "edit/", "pdf/"):
        assert client.get(_url(saved_draft, suffix)).status_code == 404


def test_the_signed_note_pdf_says_the_allergy_status(signed, login_as, physician):
    """Issue 14: the note says whether "no known drug allergies" was recorded or nobody asked."""
    from pypdf import PdfReader

    from triggerpoint.patients.models import Patient

    def pdf_text():
        response = login_as(physician).get(_url(signed, "pdf/"))
        return " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)

    Patient.objects.filter(pk=signed.patient.pk).update(allergy_status="unknown")
    assert "Allergy status Not recorded (never asked)" in pdf_text()
    Patient.objects.filter(pk=signed.patient.pk).update(allergy_status="nkda")
    assert "Allergy status No known drug allergies" in pdf_text()
