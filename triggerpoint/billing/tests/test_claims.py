"""The coder's hand-off reads the codes the physician signed, marks notes billed once, and exports CSV."""

from __future__ import annotations

import csv
import io

import pytest

from triggerpoint.audit.models import AuditEvent
from triggerpoint.billing import services
from triggerpoint.billing.claims import claim_of
from triggerpoint.billing.models import BillingHandoff
from triggerpoint.conftest import make_patient

pytestmark = pytest.mark.django_db


def test_the_claim_lines_are_the_signed_codes(sign_note, patient):
    note = sign_note(patient)
    assert note.status == "signed" and note.codes
    claim = claim_of(note)
    signed_cpt = [(row["code"], row["units"]) for row in note.codes["cpt"]]
    assert [(line.code, line.units) for line in claim.lines if line.code_type == "CPT"] == signed_cpt
    assert signed_cpt == [("20553", 1)]  # three muscles: 20553, one unit
    assert claim.note.diagnosis_codes == ("M79.18",) and claim.note.payer == "medicare"
    assert claim.problem == ""


def test_a_note_without_a_diagnosis_cannot_be_marked(sign_note, patient):
    claim = claim_of(sign_note(patient, diagnosis_codes=[]))
    assert "ICD-10-CM" in claim.problem


def test_marking_is_once_per_note_and_audited_per_patient(sign_note, patient, front_desk):
    note = sign_note(patient)
    first = services.mark_billed(front_desk, [note.public_id])
    assert len(first) == 1 and first[0].billed_by == front_desk
    again = services.mark_billed(front_desk, [note.public_id])
    assert again == [] and BillingHandoff.objects.get().batch == first[0].batch  # a retry keeps the first batch
    events = AuditEvent.objects.filter(action="billing.note.billed")
    assert events.count() == 1 and events.get().patient_id == patient.pk


def test_another_clinics_note_is_never_marked(sign_note, patient, clinic_b):
    from triggerpoint.conftest import make_staff

    note = sign_note(patient)
    other_desk = make_staff("desk.b", "front_desk", clinic_b)
    with pytest.raises(services.NothingToBill):
        services.mark_billed(other_desk, [note.public_id])
    assert not BillingHandoff.objects.exists()


def test_a_nurse_may_not_mark(sign_note, patient, nurse):
    from django.core.exceptions import PermissionDenied

    note = sign_note(patient)
    with pytest.raises(PermissionDenied):
        services.mark_billed(nurse, [note.public_id])


def test_taking_a_note_back_needs_a_reason_and_keeps_it(sign_note, patient, front_desk):
    note = sign_note(patient)
    services.mark_billed(front_desk, [note.public_id])
    with pytest.raises(ValueError, match="Say why"):
        services.reopen(front_desk, str(note.public_id), "  ")
    handoff = services.reopen(front_desk, str(note.public_id), "Claim rejected: modifier missing")
    assert not handoff.is_billed and handoff.reopened_reason == "Claim rejected: modifier missing"
    assert AuditEvent.objects.filter(action="billing.note.reopened", patient=patient).count() == 1


def test_the_page_lists_notes_to_bill_and_marks_them(client, login_as, sign_note, patient, front_desk):
    note = sign_note(patient)
    login_as(front_desk)
    html = client.get("/billing/").content.decode()
    assert "20553" in html and patient.mrn in html and "M79.18" in html
    assert "spouse drove home" not in html  # no clinical narrative
    assert AuditEvent.objects.filter(action="billing.claims.viewed", patient=patient).exists()
    response = client.post("/billing/mark/", {"note": [str(note.public_id)], "back": "status=to_bill"})
    assert response.status_code == 302 and response["Location"] == "/billing/?status=to_bill"
    assert BillingHandoff.objects.get(procedure=note).is_billed
    assert patient.mrn not in client.get("/billing/").content.decode()  # no longer to bill
    assert patient.mrn in client.get("/billing/?status=billed").content.decode()


def test_the_back_link_cannot_redirect_elsewhere(client, login_as, sign_note, patient, front_desk):
    note = sign_note(patient)
    login_as(front_desk)
    response = client.post("/billing/mark/", {"note": [str(note.public_id)], "back": "https://evil.example/"})
    assert response["Location"].startswith("/billing/?")


def test_the_csv_has_one_row_per_line_no_narrative_and_no_formulas(client, login_as, sign_note, clinic_a,
                                                                     front_desk):
    tricky = make_patient(clinic_a, "A-0777", "=HYPERLINK(\"x\")", "-Smith")
    sign_note(tricky)
    login_as(front_desk)
    response = client.get("/billing/export.csv?status=to_bill")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["service_date", "mrn", "patient_family_name"]
    assert body and all(row[header.index("mrn")] == "A-0777" for row in body)
    assert {row[header.index("code")] for row in body} >= {"20553"}
    assert all(row[header.index("patient_family_name")] == "'-Smith" for row in body)
    assert all(row[header.index("patient_given_name")].startswith("'=") for row in body)
    assert not any("spouse" in cell for row in body for cell in row)
    assert AuditEvent.objects.filter(action="billing.claims.exported", patient=tricky).count() == 1


@pytest.mark.parametrize("query", ["status=nonsense", "from=yesterday", "from=2026-12-01&to=2026-11-01"])
def test_bad_filters_say_why_and_never_fail(client, login_as, front_desk, query):
    login_as(front_desk)
    response = client.get(f"/billing/?{query}")
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()


def test_a_form_with_a_broken_note_id_says_so_and_never_fails(client, login_as, front_desk):
    login_as(front_desk)
    response = client.post("/billing/mark/", {"note": ["not-a-uuid", "123"]}, follow=True)
    assert response.status_code == 200
    assert "Choose at least one signed note of this clinic." in response.content.decode()
    assert not BillingHandoff.objects.exists()
