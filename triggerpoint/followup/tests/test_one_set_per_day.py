"""Two notes for one patient on one procedure date: one set of check-ins asking about both.

The second note joins the day's check-ins (no parallel set, no clash with the per-day
constraint); triage, the toxin questions, the report window and the summaries read every
note of the day. An alert page also shows a procedure done since, today's included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.audit.models import AuditEvent
from triggerpoint.followup.checkins import report_problem, schedule_checkins, submit_checkin
from triggerpoint.followup.display import summarise_day
from triggerpoint.followup.models import Alert, AnsweredVia, CheckIn
from triggerpoint.followup.report_window import REPORT_PURPOSE, report_window_days
from triggerpoint.followup.tests.factories import MONDAY, PERFORMED, rota, signed_procedure, staff
from triggerpoint.notifications.models import Notification, PatientLink

pytestmark = pytest.mark.django_db

SIGNED = PERFORMED + timedelta(minutes=30)
LATER = PERFORMED + timedelta(hours=1)


@pytest.fixture
def on_call(clinic_a):
    return rota(clinic_a, staff("nina.oncall", "nurse", clinic_a))


def _sign(patient, physician, *, at=PERFORMED, on=MONDAY, **kwargs):
    procedure = signed_procedure(patient, physician, on=on, performed_at=at, **kwargs)
    with freeze_time(at + timedelta(minutes=30)):
        created = schedule_checkins(procedure)
    return procedure, created


def test_a_second_note_of_the_day_joins_the_day_check_ins(patient, physician, on_call):
    first, created = _sign(patient, physician)
    assert created
    invitations = Notification.objects.filter(kind="followup.checkin").count()

    second, again = _sign(patient, physician, at=LATER, sites=(("masseter", "right"),))

    assert again == []
    assert CheckIn.objects.filter(patient=patient).count() == len(created)
    assert set(CheckIn.objects.values_list("procedure", flat=True)) == {first.pk}
    assert Notification.objects.filter(kind="followup.checkin").count() == invitations
    joined = AuditEvent.objects.get(action="followup.checkins.joined")
    assert joined.details["procedure"] == str(second.public_id)
    # Scheduling the second note again still adds nothing.
    with freeze_time(LATER):
        assert schedule_checkins(second) == []


def test_notes_of_different_days_get_their_own_check_ins(patient, physician, on_call):
    _first, first_set = _sign(patient, physician)
    _second, second_set = _sign(patient, physician, on=MONDAY + timedelta(days=7), at=PERFORMED + timedelta(days=7))
    assert first_set and second_set
    assert CheckIn.objects.filter(patient=patient).count() == len(first_set) + len(second_set)


def test_another_patients_note_of_the_same_day_gets_its_own_check_ins(patient, other_patient, physician, on_call):
    _mine, mine = _sign(patient, physician)
    _theirs, theirs = _sign(other_patient, physician, at=LATER)
    assert mine and theirs


def test_the_day_check_in_triages_the_second_notes_toxin_and_sites(patient, physician, on_call):
    _first, created = _sign(patient, physician, sites=(("masseter", "left"),))
    _sign(patient, physician, at=LATER, drug="onabotulinumtoxinA", sites=(("upper_trapezius", "right"),))
    day_one = next(c for c in created if c.day == 1)
    with freeze_time(day_one.due_at + timedelta(minutes=5)):
        checkin, result = submit_checkin(day_one, {"symptoms": ["double_vision"]}, via=AnsweredVia.LINK)
    assert "TRI-TOXIN-SPREAD" in result.rule_ids
    assert checkin.triage["request"]["botulinum_toxin"] is True
    sites = {(s["muscle"], s["side"]) for s in checkin.triage["request"]["sites"]}
    assert sites == {("masseter", "left"), ("upper_trapezius", "right")}


def test_a_toxin_in_the_second_note_keeps_the_sent_report_links_open_for_twelve_weeks(patient, physician, on_call):
    first, _created = _sign(patient, physician)
    assert report_window_days(first) == 14
    links = PatientLink.objects.filter(purpose=REPORT_PURPOSE, target_id=str(first.public_id))
    assert links.exists()
    short = max(link.expires_at for link in links)

    second, _ = _sign(patient, physician, at=LATER, drug="onabotulinumtoxinA")

    assert report_window_days(first) == report_window_days(second) == 84
    for link in links.all():
        assert link.expires_at > short + timedelta(days=60)
    assert AuditEvent.objects.get(action="followup.checkins.joined").details["report_links_extended"] == links.count()


def test_the_summaries_show_every_note_of_the_day(patient, physician, on_call):
    first, _ = _sign(patient, physician, sites=(("masseter", "left"),))
    _sign(patient, physician, at=LATER, sites=(("upper_trapezius", "right"),))
    summaries = summarise_day(first)
    assert [[site.muscle for site in summary.sites] for summary in summaries] == [["masseter"], ["upper_trapezius"]]
    assert summaries[1].pneumothorax_sites  # the second note's chest-wall site is not lost


def _alert_for(procedure, at) -> Alert:
    with freeze_time(at):
        report_problem(procedure, {"symptoms": ["trouble_breathing"]}, via=AnsweredVia.PORTAL)
    return Alert.objects.get(procedure=procedure)


def test_the_alert_page_shows_both_notes_of_the_day(client, login_as, patient, physician, on_call):
    first, _ = _sign(patient, physician, sites=(("masseter", "left"),))
    _sign(patient, physician, at=LATER, sites=(("gluteus_medius", "right"),))
    alert = _alert_for(first, LATER + timedelta(hours=3))
    login_as(physician)
    page = client.get(reverse("followup:alert", args=[patient.public_id, alert.public_id])).content.decode()
    assert "Masseter" in page and "Gluteus medius" in page
    assert "Latest procedure since" not in page  # nothing later than the alert's own day


def test_the_alert_page_shows_a_procedure_signed_today(client, login_as, patient, physician, on_call):
    now = timezone.now()
    earlier = signed_procedure(patient, physician, on=timezone.localdate() - timedelta(days=3),
                               performed_at=now - timedelta(days=3), sites=(("masseter", "left"),))
    alert = _alert_for(earlier, now - timedelta(hours=2))
    today = signed_procedure(patient, physician, on=timezone.localdate(), performed_at=now - timedelta(hours=1),
                             sites=(("gluteus_medius", "right"),))
    login_as(physician)
    page = client.get(reverse("followup:alert", args=[patient.public_id, alert.public_id])).content.decode()
    assert "Latest procedure since" in page
    latest = page[page.index("Latest procedure since"):]
    assert "Gluteus medius" in latest and f"Procedure {today.procedure_date:%b} {today.procedure_date.day}" in latest


def test_two_notes_signed_at_the_same_moment_still_make_one_set(patient, physician, on_call):
    """Both notes signed before either receiver ran: the second receiver still finds the first set."""
    first = signed_procedure(patient, physician, on=MONDAY, performed_at=PERFORMED)
    second = signed_procedure(patient, physician, on=MONDAY, performed_at=LATER, drug="onabotulinumtoxinA")
    with freeze_time(datetime(2026, 11, 16, 21, 0, tzinfo=UTC)):
        created = schedule_checkins(first)
        assert schedule_checkins(second) == []
    assert CheckIn.objects.count() == len(created)


def test_each_signed_note_page_links_to_the_days_check_ins(client, login_as, patient, physician, on_call):
    first, created = _sign(patient, physician)
    second, _ = _sign(patient, physician, at=LATER, sites=(("masseter", "right"),))
    login_as(physician)
    for note in (first, second):
        page = client.get(reverse("procedures:note", args=[patient.public_id, note.public_id])).content.decode()
        for checkin in created:
            assert reverse("followup:checkin", args=[patient.public_id, checkin.public_id]) in page
            assert f"Day {checkin.day} check-in" in page


def test_two_notes_signed_through_the_service_on_one_day_give_one_plan_one_set_one_series(physician, patient, on_call):
    """All three receivers, through the real signing service: the second signature neither fails nor doubles."""
    from triggerpoint.aftercare.models import AftercarePlan
    from triggerpoint.core.context import acting_as
    from triggerpoint.followup.tests.test_signal_integration import NOTE
    from triggerpoint.outcomes.models import OutcomeRequest
    from triggerpoint.procedures import drafting, signing

    second_note = dict(NOTE, sites=[{"muscle": "masseter", "side": "right", "technique": "injection", "insertions": 1}],
                       mix=[dict(NOTE["mix"][0], drug="triamcinolone", concentration_percent=None, concentration_mg_per_ml=40,
                                 ml_per_site=1)])
    signed = []
    for at, body in ((datetime(2026, 11, 20, 20, 0, tzinfo=UTC), NOTE), (datetime(2026, 11, 20, 21, 0, tzinfo=UTC), second_note)):
        with freeze_time(at), acting_as(physician):
            draft = drafting.create_draft(physician, patient, procedure_date=MONDAY + timedelta(days=4))
            draft = drafting.autosave_draft(physician, draft, draft.version, body)
            signed.append(signing.sign_procedure(physician, draft, draft.version,
                                                 repeat_override_reason="Second muscle group the same day"))
    first, second = signed
    plan = AftercarePlan.objects.get(patient=patient)
    assert plan.procedure == first and list(plan.also_covers.all()) == [second]
    assert {row["drug"] for row in plan.inputs["injectates"]} == {"lidocaine", "triamcinolone"}
    assert "steroid_flare" in {task["id"] for day in plan.days for task in day["tasks"]}
    assert sorted(CheckIn.objects.filter(patient=patient).values_list("day", flat=True)) == [0, 1, 3, 5]
    follow_ups = OutcomeRequest.objects.filter(patient=patient, time_point__in=["2w", "6w", "12w"])
    assert set(follow_ups.values_list("procedure", flat=True)) == {first.pk} and follow_ups.count() == 3
