"""After a merge (issue 17) the surviving chart's reads see the absorbed chart's records, in every app.

Two real charts of one person: the duplicate gets a note signed through the real signing service
(triamcinolone 40 mg in the neck, with every app's receivers: check-ins, outcome requests, the aftercare
plan), an answered check-in and its alert, outcome measurements, a screening, a signed assessment visit
and a booked appointment. Then the clinic admin merges it into the surviving chart with the real merge
service, and each read of the survivor — the safety checks first — must count what the duplicate holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from triggerpoint.conftest import make_patient
from triggerpoint.core.context import acting_as
from triggerpoint.patients import merging, selectors
from triggerpoint.patients.timeline import entries_for

DAY = date(2026, 11, 20)  # "today" after the merge (a Friday)
EARLIER = DAY - timedelta(days=30)  # the duplicate's signed steroid session (neck)
BOOKED = date(2026, 11, 23)  # the duplicate's procedure appointment (a Monday)


def _frozen(day: date, hhmm: str = "15:00"):
    return freeze_time(f"{day.isoformat()} {hhmm}:00")


def _note(muscle: str, injectates: list[dict]) -> dict:
    return {
        "guidance": "landmark", "pre_nrs": 6, "post_nrs": 2, "observation_minutes": 15, "discharge_condition": "stable",
        "diagnosis_codes": ["M79.18"], "timeout_performed": "yes", "timeout_time": "14:05", "site_marked": "yes",
        "skin_prep_agent": "chlorhexidine_alcohol", "sterile_technique": "aseptic_no_touch", "mix": [],
        "sites": [{"muscle": muscle, "side": "left", "technique": "injection", "insertions": 1,
                   "uses_shared_mix": False, "injectates": injectates}],
    }


def _triamcinolone(mg: int) -> dict:
    return {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "volume_ml": mg / 40}


def _toxin(units: int) -> dict:
    return {"drug": "onabotulinumtoxinA", "concentration_units_per_ml": 100, "volume_ml": units / 100}


def _draft(physician, patient, on: date, document: dict):
    from triggerpoint.procedures import drafting

    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=on)
        return drafting.autosave_draft(physician, procedure, procedure.version, dict(document, procedure_date=on.isoformat()))


def _sign(physician, patient, on: date, document: dict, **overrides):
    from triggerpoint.procedures import signing

    procedure = _draft(physician, patient, on, document)
    with acting_as(physician):
        return signing.sign_procedure(physician, procedure, procedure.version, **overrides)


@pytest.fixture
def urls_loaded():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - import the views before any clock is frozen


@pytest.fixture
def duplicate(clinic_a, patient):
    """A second chart of the portal patient (`patient`, A-0001), registered by mistake."""
    return make_patient(clinic_a, "A-0099", "Pat", "Portal-Owner", date_of_birth=patient.date_of_birth)


@pytest.fixture
def absorbed(urls_loaded, clinic_a, clinic_admin, physician, duplicate, patient):
    """The duplicate's records, made before the merge; returns what was made."""
    from triggerpoint.assessment import visit_signing
    from triggerpoint.assessment.tests.factories import ready_visit
    from triggerpoint.followup.checkins import submit_checkin
    from triggerpoint.followup.models import Alert, AnsweredVia, CheckIn
    from triggerpoint.outcomes import services as outcome_services
    from triggerpoint.scheduling import services as scheduling
    from triggerpoint.scheduling.tests.conftest import at, set_up_clinic
    from triggerpoint.screening import services as screening_services

    made = {}
    with _frozen(EARLIER, "14:00"):
        made["note"] = _sign(physician, duplicate, EARLIER, _note("levator_scapulae", [_triamcinolone(40)]))
        made["measurements"] = outcome_services.record_measurements(
            patient=duplicate, instrument_answers={"nrs_pain": {"now": 3, "average": 4}}, time_point="immediate",
            source="clinic", procedure=made["note"])
    checkins = list(CheckIn.objects.filter(patient=duplicate).order_by("due_at"))
    assert checkins, "signing scheduled the duplicate's check-ins"
    first = checkins[0]
    with freeze_time(first.due_at + timedelta(minutes=5)):
        made["checkin"], _result = submit_checkin(first, {"symptoms": ["fever"]}, via=AnsweredVia.LINK)
    made["alert"] = Alert.objects.get(checkin=first)
    made["checkins"] = checkins
    with _frozen(DAY, "14:00"):
        visit = ready_visit(physician, duplicate)
        with acting_as(physician):
            made["visit"] = visit_signing.sign_visit(physician, visit, visit.version)
            made["screening"] = screening_services.create_screening(
                physician, duplicate, BOOKED,
                {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
                 "guidance": "landmark"})
        types, rooms = set_up_clinic(clinic_a)
        with acting_as(clinic_admin):
            made["appointment"] = scheduling.book(
                clinic_admin, patient=duplicate, appointment_type=types["procedure"], clinician=physician,
                starts_at=at(clinic_a, BOOKED, "10:00"), room=rooms[0])
        with acting_as(clinic_admin):
            merging.merge_charts(clinic_admin, duplicate, patient)
    return made


def _today():
    return _frozen(DAY)


# ----------------------------------------------------------------------------- clinical safety


@pytest.mark.django_db
def test_the_repeat_interval_on_the_survivor_counts_the_session_signed_on_the_absorbed_chart(absorbed, patient,
                                                                                              duplicate):
    """The outcomes repeat rule (worklist chip and the repeat decision): 30 days after a neck session on the
    duplicate, another neck session on the survivor is too soon. Before the change the survivor had no history."""
    from triggerpoint.outcomes import services as outcomes

    with _today():
        sessions = outcomes.prior_sessions(patient, DAY)
        assert [s.date for s in sessions] == [EARLIER]
        timing = outcomes.repeat_timing_for_day({patient.pk: ["upper_trapezius"]}, DAY, payer="medicare_lcd")
        assert timing[patient.pk].last_session == EARLIER
        assert not timing[patient.pk].ok, "a neck session 30 days after the absorbed chart's must not read as fine"
        decision = outcomes.repeat_decision_for(patient, DAY, ["cervical"], payer="medicare_lcd")
        assert any(f.rule in outcomes.repeat_rule.TIMING_RULES and f.severity == outcomes.repeat_rule.NOT_MET
                   for f in decision.findings)
        # An appointment still on the absorbed chart (the worklist asks by its pk) sees the same history.
        assert outcomes.repeat_timing_for_day({duplicate.pk: ["upper_trapezius"]}, DAY,
                                              payer="medicare_lcd")[duplicate.pk].last_session == EARLIER


@pytest.mark.django_db
def test_the_steroid_total_toxin_interval_and_signing_checks_count_the_absorbed_chart(absorbed, patient, physician):
    """Steroid given on the absorbed chart counts toward the survivor's 12-month total, and signing a note on the
    survivor is held by the same-region interval. A toxin on the absorbed chart holds the survivor's next toxin."""
    from triggerpoint.procedures import selectors as procedures
    from triggerpoint.procedures import signing
    from triggerpoint.screening import history

    with _today():
        assert float(procedures.steroid_exposure_12m(patient, DAY).total_mg) == 40.0
        assert history.clinic_steroid_sessions_12m(patient, DAY) == 1
        draft = _draft(physician, patient, DAY, _note("upper_trapezius", [_triamcinolone(20)]))
        with acting_as(physician), pytest.raises(signing.SigningBlocked) as blocked:
            signing.sign_procedure(physician, draft, draft.version)
        assert "30 days ago; at least 42 days" in " ".join(blocked.value.problems)
        with acting_as(physician):
            signed = signing.sign_procedure(physician, draft, draft.version, repeat_override_reason="Payer approval 88")
        assert signed.dose_check["steroid_12_month_triamcinolone_equivalent_mg"] == 60.0


@pytest.mark.django_db
def test_a_toxin_on_the_absorbed_chart_holds_the_survivor_s_next_toxin(urls_loaded, clinic_admin, physician,
                                                                       duplicate, patient):
    from triggerpoint.procedures import signing

    with _frozen(DAY - timedelta(days=50)):
        _sign(physician, duplicate, DAY - timedelta(days=50), _note("quadratus_lumborum", [_toxin(100)]))
    with _today():
        with acting_as(clinic_admin):
            merging.merge_charts(clinic_admin, duplicate, patient)
        draft = _draft(physician, patient, DAY, _note("upper_trapezius", [_toxin(100)]))
        with acting_as(physician), pytest.raises(signing.SigningBlocked) as blocked:
            signing.sign_procedure(physician, draft, draft.version)
    assert "last given 50 days ago" in " ".join(blocked.value.problems)


@pytest.mark.django_db
def test_a_screening_and_a_draft_left_on_the_absorbed_chart_read_the_survivor_s_allergies_and_weight(
        urls_loaded, clinic_admin, physician, duplicate, patient):
    """Allergies, medications and risk factors move to the survivor at the merge; a screening or a draft made on
    the absorbed chart before it and evaluated or signed after it must read them there, not the emptied chart."""
    from decimal import Decimal

    from triggerpoint.patients import services as patient_services
    from triggerpoint.procedures import signing
    from triggerpoint.screening import facts
    from triggerpoint.screening import services as screening_services

    with _today():
        with acting_as(physician):
            patient_services.add_allergy(physician, duplicate, "Lidocaine", severity="severe")
            patient_services.add_medication(physician, duplicate, "Warfarin", "anticoagulant")
            screening = screening_services.create_screening(
                physician, duplicate, BOOKED,
                {"sites": [{"muscle": "upper_trapezius", "side": "right"}], "injectates": [{"drug": "lidocaine"}],
                 "guidance": "landmark"})
        draft = _draft(physician, duplicate, DAY, _note("upper_trapezius", [_triamcinolone(20)]))
        type(patient).objects.filter(pk=patient.pk).update(weight_kg=Decimal("82.5"))
        type(patient).objects.filter(pk=duplicate.pk).update(weight_kg=Decimal("55.0"))
        with acting_as(clinic_admin):
            merging.merge_charts(clinic_admin, duplicate, patient)

        screening.refresh_from_db()
        request = facts.screening_request(screening)
        assert request["patient"]["allergies"] == ["Lidocaine"]
        assert [m["drug_class"] for m in request["patient"]["medications"]] == ["anticoagulant"]
        assert request["patient"]["weight_kg"] == 82.5
        draft.refresh_from_db()
        with acting_as(physician):
            signed = signing.sign_procedure(physician, draft, draft.version)
        assert signed.weight_kg_used == Decimal("82.5")


@pytest.mark.django_db
def test_an_aftercare_plan_for_a_note_on_the_absorbed_chart_warns_of_the_blood_thinner_moved_to_the_survivor(
        urls_loaded, clinic_admin, physician, duplicate, patient):
    from triggerpoint.aftercare import record_inputs
    from triggerpoint.patients import services as patient_services

    with _today():
        with acting_as(physician):
            patient_services.add_medication(physician, duplicate, "Warfarin", "anticoagulant")
        draft = _draft(physician, duplicate, DAY, _note("quadratus_lumborum", [_triamcinolone(20)]))
        with acting_as(clinic_admin):
            merging.merge_charts(clinic_admin, duplicate, patient)
        draft.refresh_from_db()
        request = record_inputs.day_plan_request_for([draft])
    assert "haematoma_risk" in request["patient"]["conditions"]  # a deep site on a blood thinner


# ----------------------------------------------------------------------------- follow-up


@pytest.mark.django_db
def test_follow_up_reads_of_the_survivor_see_the_absorbed_check_ins_alert_and_notes(absorbed, client, login_as,
                                                                                     physician, patient, duplicate,
                                                                                     bearer):
    from triggerpoint.followup import display, report_window, toxin
    from triggerpoint.followup.note_links import links

    note, checkin, alert = absorbed["note"], absorbed["checkin"], absorbed["alert"]
    with _today():
        later = _sign(physician, patient, DAY, _note("gluteus_medius", [{"drug": "lidocaine",
                                                                         "concentration_percent": 1, "volume_ml": 2}]))
        # Triage of the absorbed note's alert shows the survivor's later injection.
        latest = display.latest_procedure_summary(note)
        assert latest is not None and latest.procedure_date == DAY
        assert [n.pk for n in toxin.procedures_of_day(later)] == [later.pk]
        # The check-in and alert pages and the API under the survivor's address.
        login_as(physician)
        assert client.get(reverse("followup:checkin", args=[patient.public_id, checkin.public_id])).status_code == 200
        assert client.get(reverse("followup:alert", args=[patient.public_id, alert.public_id])).status_code == 200
        api = client.get(f"/api/v1/followup/patients/{patient.public_id}/checkins/{checkin.public_id}",
                         **bearer(physician))
        assert api.status_code == 200
        listed = client.get(f"/api/v1/followup/patients/{patient.public_id}/checkins", **bearer(physician)).json()
        assert str(checkin.public_id) in {row["id"] for row in listed}
        # Note links of the absorbed note list its day's check-ins.
        assert {link.url for link in links(note, physician)} >= {
            reverse("followup:checkin", args=[duplicate.public_id, c.public_id]) for c in absorbed["checkins"]}
    with _frozen(EARLIER + timedelta(days=2)):
        assert note in report_window.procedures_open_for_report(patient)


@pytest.mark.django_db
def test_the_portal_of_the_survivor_shows_the_absorbed_chart_s_check_ins_plans_and_screenings(absorbed, patient):
    from triggerpoint.aftercare import portal as aftercare_portal
    from triggerpoint.followup import portal as followup_portal
    from triggerpoint.outcomes import portal as outcomes_portal
    from triggerpoint.screening import portal as screening_portal

    account = patient.portal_user
    assert account is not None
    with _frozen(EARLIER + timedelta(days=3)):
        followup = followup_portal.sections(account)
        assert followup and absorbed["checkin"] in followup[0].context["recent"]
        plans = aftercare_portal.sections(account)
        assert plans and plans[0].context  # the absorbed note's aftercare plan
    with _today():
        screenings = screening_portal.sections(account)
        assert screenings, "the screening planned on the absorbed chart shows on the survivor's portal"
        outcomes_portal.sections(account)  # reads every chart without error


# ----------------------------------------------------------------------------- outcomes


@pytest.mark.django_db
def test_outcomes_of_the_survivor_include_the_absorbed_note_measurements_and_requests(absorbed, client, login_as,
                                                                                       physician, patient):
    from triggerpoint.outcomes import display, services
    from triggerpoint.outcomes.models import OutcomeRequest

    note = absorbed["note"]
    with _today():
        overview = display.patient_overview(patient)
        assert [row.procedure.pk for row in overview["rows"]] == [note.pk]
        assert {m.pk for m in overview["measurements"]} >= {m.pk for m in absorbed["measurements"]}
        assert {r.pk for r in overview["requests"]} == set(
            OutcomeRequest.objects.filter(procedure=note).values_list("pk", flat=True)) != set()
        assert services.procedure_for_diary(patient, EARLIER + timedelta(days=7)) == note
        page = login_as(physician).get(reverse("outcomes:patient", args=[patient.public_id]))
        assert page.status_code == 200 and str(note.procedure_date) in page.content.decode()
        # Relief duration: the survivor's next session (20 days on) closes the absorbed note's follow-up
        # window, so relief lost on day 28 describes the next treatment, not this one.
        for days, relief in ((14, 60), (28, 10)):
            services.record_measurements(
                patient=patient, instrument_answers={"percent_relief": {"relief": relief}},
                time_point="2w" if days == 14 else "6w", source="clinic", procedure=note,
                measured_at=datetime.combine(EARLIER + timedelta(days=days), time(12), tzinfo=UTC))
        before = services.summarize_procedure(note).duration
        assert before.event_observed is True and before.days == 28  # one chart's view: nothing came next
        _sign(physician, patient, EARLIER + timedelta(days=20),
              _note("gluteus_medius", [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 2}]))
        after = services.summarize_procedure(note).duration
        assert after.event_observed is False and after.days == 14


# ----------------------------------------------------------------------------- screening, assessment, scheduling


@pytest.mark.django_db
def test_screening_assessment_and_scheduling_reads_of_the_survivor_see_the_absorbed_records(absorbed, client,
                                                                                          login_as, physician,
                                                                                          patient, duplicate,
                                                                                          bearer):
    from triggerpoint.assessment import visit_reads
    from triggerpoint.scheduling import selectors as schedule
    from triggerpoint.screening import prefill
    from triggerpoint.screening import selectors as screenings

    screening, visit, appointment = absorbed["screening"], absorbed["visit"], absorbed["appointment"]
    with _today():
        assert screenings.recent_screenings(patient) == [screening]
        assert screenings.screening_of_patient(patient, screening.public_id) == screening
        assert screenings.screening_planned_for(patient, BOOKED) == screening
        assert visit_reads.recent_visits(patient) == [visit]
        assert visit_reads.visit_of_patient(patient, visit.public_id) == visit
        assert visit_reads.latest_signed_visit(patient) == visit
        filled = prefill.plan_prefill(patient)
        assert filled.source and filled.source["id"] == str(visit.public_id)
        assert list(schedule.appointments_for_patient(patient)) == [appointment]
        assert schedule.next_appointment_for_patient(patient) == appointment
        listed = client.get(f"/api/v1/scheduling/patients/{patient.public_id}/appointments", **bearer(physician))
        assert listed.status_code == 200 and str(appointment.public_id) in listed.content.decode()
        one = client.get(f"/api/v1/scheduling/patients/{patient.public_id}/appointments/{appointment.public_id}",
                         **bearer(physician))
        assert one.status_code == 200  # the absorbed chart's appointment under the survivor's address
        assert screenings.screenings_for_day([patient.pk], BOOKED) == {patient.pk: screening}
        # The chart's timeline asks each chart in turn: the appointment is shown once, not twice.
        timeline = [e for e in entries_for(patient, physician) if e.kind == "appointment"]
        assert len(timeline) == 1
        # A procedure note drafted on the survivor can link the absorbed chart's screening and visit.
        page = login_as(physician).get(reverse("procedures:new", args=[patient.public_id]))
        assert page.status_code in (200, 302)
    assert duplicate.pk in selectors.chart_ids(patient)


@pytest.mark.django_db
def test_today_shows_the_absorbed_chart_s_open_alert_on_the_survivor_s_row(absorbed, clinic_admin, physician,
                                                                            patient, client, login_as):
    from triggerpoint.scheduling import services as scheduling
    from triggerpoint.scheduling.models import AppointmentType, Room
    from triggerpoint.scheduling.tests.conftest import at
    from triggerpoint.shell import today

    alert = absorbed["alert"]
    with _frozen(DAY, "13:00"):
        with acting_as(clinic_admin):
            scheduling.book(clinic_admin, patient=patient, clinician=physician,
                            appointment_type=AppointmentType.objects.get(clinic=patient.clinic, kind="follow_up"),
                            starts_at=at(patient.clinic, DAY, "16:00"), room=Room.objects.filter(clinic=patient.clinic).first())
        rows = today.sections(physician)[0].context["rows"]
        row = next(r for r in rows if r["patient"].pk == patient.pk)
        chip = next(c for c in row["chips"] if c.label == "Alerts")
        assert chip.reason == "1 open follow-up alert."
        assert chip.fix_url == reverse("followup:alert", args=[patient.public_id, alert.public_id])
        login_as(physician)
        assert client.get(chip.fix_url).status_code == 200


# ----------------------------------------------------------------------------- FHIR


@pytest.mark.django_db
def test_fhir_everything_and_patient_searches_of_the_survivor_hold_the_absorbed_records(absorbed, client,
                                                                                         physician, patient,
                                                                                         duplicate, bearer):
    note = absorbed["note"]
    with _today():
        everything = client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything?_count=200", **bearer(physician))
        assert everything.status_code == 200
        ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in everything.json().get("entry", [])}
        assert ("Procedure", str(note.public_id)) in ids
        assert ("Encounter", str(absorbed["visit"].public_id)) in ids
        assert ("Patient", str(duplicate.public_id)) not in ids
        found = client.get(f"/fhir/R4/Procedure?patient={patient.public_id}", **bearer(physician)).json()
        assert str(note.public_id) in {e["resource"]["id"] for e in found.get("entry", [])}
        # The absorbed chart's id: read answers it as replaced by the survivor.
        read = client.get(f"/fhir/R4/Patient/{duplicate.public_id}", **bearer(physician))
        assert read.status_code == 200
        body = read.json()
        assert body["active"] is False
        assert body["link"] == [{"other": {"reference": f"Patient/{patient.public_id}"}, "type": "replaced-by"}]
        survivor = client.get(f"/fhir/R4/Patient/{patient.public_id}", **bearer(physician)).json()
        assert survivor["active"] is True and "link" not in survivor


@pytest.mark.django_db
def test_the_survivor_s_portal_account_is_scoped_to_both_charts_over_fhir(absorbed, client, patient, duplicate,
                                                                          other_patient):
    """A portal account reads only Patient over FHIR; its scope is every chart of its patient (the absorbed
    chart's id reads as replaced by the survivor), and still nobody else's."""
    client.force_login(patient.portal_user)
    with _today():
        read = client.get(f"/fhir/R4/Patient/{duplicate.public_id}")
        assert read.status_code == 200 and read.json()["link"][0]["type"] == "replaced-by"
        listed = client.get("/fhir/R4/Patient?_count=100").json()
        assert [e["resource"]["id"] for e in listed.get("entry", [])] == [str(patient.public_id)]
        assert client.get(f"/fhir/R4/Patient/{other_patient.public_id}").status_code == 404


@pytest.mark.django_db
def test_another_patient_s_records_stay_out(absorbed, other_patient, physician, patient):
    """The wider reads name only the merged pair's charts: a stranger's chart is not one of them."""
    from triggerpoint.outcomes import services as outcomes

    assert other_patient.pk not in selectors.chart_ids(patient)
    assert not selectors.is_chart_of(other_patient.public_id, absorbed["note"].patient_id)
    assert selectors.is_chart_of(patient.public_id, absorbed["note"].patient_id)
    with _today():
        assert outcomes.prior_sessions(other_patient, DAY) == []
