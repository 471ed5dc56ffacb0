"""Pages and API: who sees what, the chart, the questionnaire link, the portal diary, exports, 4xx answers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.outcomes.models import Measurement, OutcomeRequest, RequestStatus
from triggerpoint.outcomes.tests.factories import answer, signed_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated(patient, physician):
    day = timezone.localdate() - timedelta(days=50)
    procedure = signed_procedure(patient, physician, day, sites=(("upper_trapezius", "left"), ("levator_scapulae", "left")))
    answer(procedure, "2w", days=14, pain=3, relief=60)
    answer(procedure, "6w", days=42, pain=4, relief=40)
    return procedure


def test_front_desk_sees_no_analytics_page_export_or_api(login_as, front_desk, bearer, client, treated):
    login_as(front_desk)
    for path in ("/outcomes/analytics/", "/outcomes/analytics/export.csv", "/outcomes/analytics/export.parquet",
                 "/outcomes/analytics/research.zip"):
        assert client.get(path).status_code == 403, path
    assert client.get("/api/v1/outcomes/analytics/report", **bearer(front_desk)).status_code == 403
    page = client.get("/worklist/").content.decode()
    assert "/outcomes/analytics/" not in page  # no Analytics link in the navigation either


def test_an_analyst_sees_the_dashboard_but_no_patient_outcomes(login_as, analyst, client, treated, patient):
    login_as(analyst)
    page = client.get("/outcomes/analytics/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Clinic outcomes" in html and "<svg" in html and patient.family_name not in html
    assert client.get(f"/outcomes/patients/{patient.public_id}/").status_code == 403


def test_the_dashboard_filters_by_date_and_writes_an_audit_event(login_as, physician, client, treated):
    from triggerpoint.audit.models import AuditEvent

    login_as(physician)
    day = treated.procedure_date
    html = client.get(f"/outcomes/analytics/?date_from={day}&date_to={day}&by=injectate").content.decode()
    assert "Lidocaine" in html
    empty = client.get(f"/outcomes/analytics/?date_from={day + timedelta(days=1)}&date_to={day + timedelta(days=2)}")
    assert "No procedures in this range." in empty.content.decode()
    event = AuditEvent.objects.filter(action="outcomes.analytics.viewed").latest("id")
    assert event.details["by"] == "guidance" and event.patient is None


def test_report_downloads_parse_back(login_as, analyst, client, treated):
    import pyarrow.parquet as pq

    login_as(analyst)
    response = client.get("/outcomes/analytics/export.csv")
    assert response["Content-Type"] == "text/csv" and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["dimension"] == "all" and rows[0]["procedures"] == "1"
    table = pq.read_table(io.BytesIO(client.get("/outcomes/analytics/export.parquet").content))
    assert table.num_rows == len(rows)
    research = pq.read_table(io.BytesIO(client.get("/outcomes/analytics/research.parquet").content))
    assert research.num_rows == 1 and "subject" in research.column_names
    assert client.get("/outcomes/analytics/export.xlsx").status_code == 404


def test_the_research_download_has_no_identifiers_of_the_patient(login_as, analyst, client, treated, patient):
    login_as(analyst)
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(client.get("/outcomes/analytics/research.zip").content))
    text = archive.read("data.csv").decode() + archive.read("manifest.json").decode()
    for value in (patient.given_name, patient.family_name, patient.mrn, patient.email, str(patient.public_id),
                  treated.procedure_date.isoformat(), patient.date_of_birth.isoformat()):
        assert value not in text


def test_the_patient_outcome_page_shows_the_chart_relief_and_mcid(login_as, nurse, client, treated, patient):
    from triggerpoint.audit.models import AuditEvent

    login_as(nurse)
    html = client.get(f"/outcomes/patients/{patient.public_id}/").content.decode()
    assert '<svg class="chart"' in html and "Pain over time" in html
    assert "Upper trapezius" in html and "Lidocaine" in html
    assert "60%" in html and "40%" in html
    assert "42 days" in html  # relief fell below 50% at the 6-week answer
    assert "Repeat injection check" in html
    assert ' style="' not in html  # strict CSP: no inline styles
    assert AuditEvent.objects.filter(action="outcomes.patient.viewed", patient=patient).exists()


def test_the_patient_chart_timeline_links_to_the_outcome_page(login_as, physician, client, treated, patient):
    login_as(physician)
    html = client.get(f"/patients/{patient.public_id}/timeline/").content.decode()
    assert f"/outcomes/patients/{patient.public_id}/" in html and "relief at 2 w" in html


def test_another_clinic_cannot_open_the_patient_outcomes(login_as, physician_b, client, treated, patient):
    login_as(physician_b)
    assert client.get(f"/outcomes/patients/{patient.public_id}/").status_code == 404


def test_the_repeat_partial_answers_with_the_rule_findings(login_as, physician, client, treated, patient):
    login_as(physician)
    planned = treated.procedure_date + timedelta(days=30)
    html = client.get(f"/outcomes/patients/{patient.public_id}/repeat/?planned_date={planned}&regions=cervical"
                      "&payer=medicare_lcd", HTTP_HX_REQUEST="true").content.decode()
    assert "Does not meet the repeat policy" in html and "RPT-INTERVAL-6W" in html and "<html" not in html


def test_staff_record_a_measurement_from_the_page_and_bad_input_is_explained(login_as, nurse, client, patient, treated):
    login_as(nurse)
    url = f"/outcomes/patients/{patient.public_id}/measurements/"
    response = client.post(url, {"instrument": "pgic", "time_point": "6w", "procedure": str(treated.public_id),
                                 "pgic__change": "2"}, follow=True)
    assert "Measurement saved." in response.content.decode()
    assert Measurement.objects.filter(instrument="pgic", procedure=treated).count() == 1
    response = client.post(url, {"instrument": "pgic", "time_point": "6w", "pgic__change": "9"}, follow=True)
    assert "Not saved" in response.content.decode()


def test_the_questionnaire_link_shows_the_questions_and_records_the_answers(client, patient, physician):
    from triggerpoint.notifications import services as outbox

    procedure = signed_procedure(patient, physician, timezone.localdate() - timedelta(days=15))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    _link, token = outbox.issue_link(patient, "outcomes.request", request, timedelta(days=20))
    page = client.get(f"/outcomes/r/{token}/")
    assert page.status_code == 200 and "How is your pain?" in page.content.decode()
    bad = client.post(f"/outcomes/r/{token}/", {"nrs_pain__now": "12"})
    assert bad.status_code == 422 and "out of range" in bad.content.decode()
    done = client.post(f"/outcomes/r/{token}/", {"nrs_pain__now": "3", "nrs_pain__average": "4", "nrs_pain__worst": "5", "percent_relief__relief": "70",
                                                 "pgic__change": "2", "peg3__pain": "3", "peg3__enjoyment": "2",
                                                 "peg3__activity": "3"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert set(Measurement.objects.filter(request=request).values_list("source", flat=True)) == {"checkin"}
    again = client.get(f"/outcomes/r/{token}/")
    assert "Thank you" in again.content.decode()  # answered once; the link does not take a second set


def test_a_wrong_or_foreign_link_is_refused(client, patient):
    from triggerpoint.notifications import services as outbox

    assert client.get("/outcomes/r/not-a-token/").status_code == 404
    _link, token = outbox.issue_link(patient, "aftercare.plan", patient, timedelta(days=1))
    assert client.get(f"/outcomes/r/{token}/").status_code == 404


def test_the_portal_shows_the_due_questionnaire_and_the_patient_answers_it(client, patient, physician):
    procedure = signed_procedure(patient, physician, timezone.localdate() - timedelta(days=14))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    client.force_login(patient.portal_user)
    portal = client.get("/portal/").content.decode()
    assert f"/outcomes/portal/questionnaires/{request.public_id}/" in portal and "pain diary" in portal
    response = client.post(f"/outcomes/portal/questionnaires/{request.public_id}/", {"nrs_pain__now": "2",
        "nrs_pain__average": "2", "nrs_pain__worst": "4", "percent_relief__relief": "80", "pgic__change": "2",
        "peg3__pain": "2", "peg3__enjoyment": "2", "peg3__activity": "2"})
    assert response.status_code == 200
    assert Measurement.objects.filter(request=request, source="portal").count() == 4


def test_a_patient_cannot_answer_another_patients_questionnaire(client, patient, other_patient, physician):
    procedure = signed_procedure(other_patient, physician, timezone.localdate() - timedelta(days=14))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    client.force_login(patient.portal_user)
    assert client.get(f"/outcomes/portal/questionnaires/{request.public_id}/").status_code == 404


def test_the_pain_diary_records_an_entry_and_refuses_an_empty_one(client, patient):
    client.force_login(patient.portal_user)
    assert client.get("/outcomes/portal/diary/").status_code == 200
    assert client.post("/outcomes/portal/diary/", {}).status_code == 422
    response = client.post("/outcomes/portal/diary/", {"nrs_pain__now": "6"}, follow=True)
    assert "Saved" in response.content.decode()
    entry = Measurement.objects.get(patient=patient, time_point="diary")
    assert entry.answers == {"now": 6} and entry.source == "portal"


def test_the_api_lists_records_and_refuses_bad_measurements(client, bearer, nurse, front_desk, patient, treated):
    url = f"/api/v1/outcomes/patients/{patient.public_id}/measurements"
    listed = client.get(url, **bearer(nurse)).json()["measurements"]
    assert {m["time_point"] for m in listed} >= {"baseline", "immediate", "2w", "6w"}
    created = client.post(url, data=json.dumps({"instrument": "percent_relief", "answers": {"relief": 30},
                                                "time_point": "12w", "procedure": str(treated.public_id)}),
                          content_type="application/json", **bearer(nurse))
    assert created.status_code == 201 and created.json()["measurements"][0]["score"] == 30
    bad = client.post(url, data=json.dumps({"instrument": "nrs_pain", "answers": {"now": 15}, "time_point": "soon"}),
                      content_type="application/json", **bearer(nurse))
    assert bad.status_code == 422 and len(bad.json()["detail"]) == 2
    missing = client.post(url, data=json.dumps({}), content_type="application/json", **bearer(nurse))
    assert missing.status_code == 422 and len(missing.json()["detail"]) == 2
    assert client.get(url, **bearer(front_desk)).status_code == 403


def test_the_api_report_and_repeat_decision(client, bearer, analyst, physician, patient, treated):
    report = client.get("/api/v1/outcomes/analytics/report", **bearer(analyst)).json()
    assert report["groups"][0]["dimension"] == "all" and report["groups"][0]["procedures"] == 1
    planned = (treated.procedure_date + timedelta(days=60)).isoformat()
    decision = client.get(f"/api/v1/outcomes/patients/{patient.public_id}/repeat-decision?planned_date={planned}"
                          "&regions=cervical&payer=evicore", **bearer(physician)).json()
    assert decision["policy"] == "evicore" and {f["rule"] for f in decision["findings"]} >= {"RPT-RELIEF-50"}
    unknown = client.get(f"/api/v1/outcomes/patients/{patient.public_id}/repeat-decision?planned_date={planned}"
                         "&regions=neck", **bearer(physician))
    assert unknown.status_code == 422


def test_the_demo_builds_a_living_history_with_a_due_questionnaire(db):
    from triggerpoint.outcomes import analytics, services
    from triggerpoint.outcomes.models import ProcedureOutcome
    from triggerpoint.procedures.models import Procedure
    from triggerpoint.shell import demo_clinic as demo

    with freeze_time("2026-06-15 14:00:00"):
        ctx = demo.build_demo(patients=12, seed=3)
        portal = ctx.portal_patient
        assert OutcomeRequest.objects.filter(patient=portal, time_point="2w", status="pending",
                                             due_on__lte=date(2026, 6, 15)).exists()
        assert ProcedureOutcome.objects.count() >= 300
        report = analytics.clinic_report(ctx.clinics[0].pk, use_cache=False)
        assert report.overall.n > 200 and report.overall.relief is not None
        # the bulk-written rows equal what the exact per-procedure path computes
        for procedure in Procedure.objects.filter(status="signed").select_related("clinic")[:150]:
            stored = ProcedureOutcome.objects.get(procedure=procedure)
            fresh = services.summarize_procedure(procedure).as_row()
            assert {k: getattr(stored, k) for k in fresh} == fresh, procedure.pk


def test_the_research_download_carries_its_manifest_and_a_study_key_is_posted_not_kept(
    login_as, analyst, client, treated
):
    import json
    import zipfile

    import pyarrow.parquet as pq

    login_as(analyst)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/outcomes/analytics/research.zip").content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["pseudonym_key"]["policy"] == "per-export" and manifest["rows"] == 1
    table = pq.read_table(io.BytesIO(client.get("/outcomes/analytics/research.parquet").content))
    embedded = json.loads(table.schema.metadata[b"triggerpoint.manifest"])
    assert embedded["pseudonym_key"]["policy"] == "per-export" and embedded["export_id"] != manifest["export_id"]
    key = "study 2026-A: kept by the analyst, not the clinic"
    subjects = []
    for _ in range(2):
        response = client.post("/outcomes/analytics/research.zip", {"study_key": key})
        linked = zipfile.ZipFile(io.BytesIO(response.content))
        assert json.loads(linked.read("manifest.json"))["pseudonym_key"]["policy"] == "study"
        subjects.append(list(csv.DictReader(io.StringIO(linked.read("data.csv").decode())))[0]["subject"])
    assert subjects[0] == subjects[1]
    assert client.post("/outcomes/analytics/research.zip", {"study_key": "short"}).status_code == 400
    assert client.get("/outcomes/analytics/research.csv").status_code == 404  # no data file without its manifest


@pytest.mark.django_db
def test_recording_with_a_procedure_field_that_is_no_note_id_says_so(login_as, physician, client, patient):
    """A real patient, a broken procedure field: a message on the page, nothing stored, never a 500."""
    from triggerpoint.outcomes.models import Measurement

    login_as(physician)
    response = client.post(f"/outcomes/patients/{patient.public_id}/measurements/",
                           {"instrument": "nrs_pain", "time_point": "other", "nrs_pain__now": "4",
                            "procedure": "not-a-note"}, follow=True)
    assert response.status_code == 200
    assert "unknown procedure for this patient" in response.content.decode()
    assert not Measurement.objects.filter(patient=patient).exists()
