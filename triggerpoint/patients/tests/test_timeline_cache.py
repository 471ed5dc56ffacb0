"""The chart timeline is cached per chart and role set, and a change to the chart's records shows at once.

Issue 13 measured the timeline at 23.5 ms of server CPU per request (every app's queries, every time);
the cache makes a repeat visit one cache read. These tests hold it to never being stale for a write
made the way the app writes: a model save, `save_versioned` (a conditional UPDATE), and the claims
and delivery states written with `QuerySet.update()` (core.changes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.core import plugins
from triggerpoint.patients.timeline import entries_for, tracked_models, written_with_parent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.TIMELINE_CACHE_SECONDS = 120


def _counted(patient, user):
    with CaptureQueriesContext(connection) as captured:
        entries = entries_for(patient, user)
    return len(captured.captured_queries), entries


def _uncached(patient, user, settings):
    settings.TIMELINE_CACHE_SECONDS = 0
    try:
        return entries_for(patient, user)
    finally:
        settings.TIMELINE_CACHE_SECONDS = 120


def _belongs_to_a_patient(model) -> bool:
    def has_patient(m) -> bool:
        return any(f.name == "patient" and f.many_to_one for f in m._meta.get_fields())

    if has_patient(model):
        return True
    return any(f.many_to_one and f.concrete and f.related_model is not None and has_patient(f.related_model)
               for f in model._meta.get_fields())


def test_every_row_a_timeline_app_keeps_about_a_patient_is_tracked():
    """A new model in an app that puts entries on the chart must say how its changes reach the cache."""
    tracked, with_parent = tracked_models(), written_with_parent()
    apps_with_entries = [config for config, _ in plugins.contributions("timeline")]
    assert len(apps_with_entries) >= 7
    missing = [model._meta.label for config in apps_with_entries for model in config.get_models()
               if _belongs_to_a_patient(model) and model not in tracked and model not in with_parent]
    assert missing == []
    assert all(parent in tracked for parent in with_parent.values())
    assert apps.get_model("notifications.Notification") in tracked  # the aftercare message summary


def test_a_repeat_visit_is_one_cache_read_and_gives_the_same_entries(patient, physician):
    from triggerpoint.aftercare.tests.factories import signed_procedure
    from triggerpoint.assessment.tests.factories import ready_visit

    ready_visit(physician, patient)
    signed_procedure(patient, sites=(("masseter", "left"),), by=physician)
    first_cost, first = _counted(patient, physician)
    again_cost, again = _counted(patient, physician)
    assert again == first and {e.kind for e in first} >= {"assessment", "procedure", "aftercare"}
    assert first_cost >= 10
    assert again_cost <= 2  # the merged-charts lookup and one read of value and token


def test_a_new_visit_and_a_new_note_show_at_once(patient, physician, settings):
    from triggerpoint.aftercare.tests.factories import signed_procedure
    from triggerpoint.assessment.tests.factories import ready_visit

    before = entries_for(patient, physician)
    ready_visit(physician, patient)
    after_visit = entries_for(patient, physician)
    assert len([e for e in after_visit if e.kind == "assessment"]) == len(
        [e for e in before if e.kind == "assessment"]) + 1
    signed_procedure(patient, sites=(("masseter", "left"),), by=physician)
    assert entries_for(patient, physician) == _uncached(patient, physician, settings)


def test_a_draft_note_saved_with_its_version_check_shows_its_new_sites(patient, physician, settings):
    from triggerpoint.aftercare.tests.factories import signed_procedure

    draft = signed_procedure(patient, sites=(("masseter", "left"),), by=physician, signed=False)
    entries_for(patient, physician)
    draft.procedure_date = draft.procedure_date - timedelta(days=1)
    draft.save_versioned(draft.version, fields=["procedure_date"])  # a conditional UPDATE: no post_save
    assert entries_for(patient, physician) == _uncached(patient, physician, settings)


def test_a_missed_check_in_written_by_a_claim_shows_at_once(patient, physician, settings):
    from triggerpoint.followup.checkins import mark_missed_checkins, schedule_checkins
    from triggerpoint.followup.tests.factories import signed_procedure

    procedure = signed_procedure(patient, physician, on=patient.clinic.today(), performed_at=timezone.now())
    checkins = schedule_checkins(procedure)
    with freeze_time(checkins[0].expires_at + timedelta(minutes=1)):  # the same clinic day: the same cache key
        assert not [e for e in entries_for(patient, physician) if e.kind == "check-in"]  # due ones are not shown
        assert mark_missed_checkins() >= 1
        shown = [e for e in entries_for(patient, physician) if e.kind == "check-in"]
        assert shown and all(e.status == "Missed" for e in shown)
        assert entries_for(patient, physician) == _uncached(patient, physician, settings)


def test_the_outbox_delivery_state_reaches_the_aftercare_summary(patient, physician, settings, smtp_server):
    from triggerpoint.aftercare.tests.factories import signed_procedure
    from triggerpoint.notifications.services import deliver_due

    signed_procedure(patient, sites=(("masseter", "left"),), by=physician)
    with freeze_time(timezone.now() + timedelta(days=30)):  # one clinic day: the same cache key throughout
        before = [e for e in entries_for(patient, physician) if e.title.startswith("Aftercare messages")]
        assert before and "pending" in before[0].summary
        assert deliver_due().get("sent", 0) >= 1
        after = [e for e in entries_for(patient, physician) if e.title.startswith("Aftercare messages")]
        assert after != before and "sent" in after[0].summary
        assert entries_for(patient, physician) == _uncached(patient, physician, settings)


def test_each_role_set_gets_its_own_entries(patient, physician, front_desk, nurse, settings):
    from triggerpoint.aftercare.tests.factories import signed_procedure
    from triggerpoint.assessment.tests.factories import ready_visit

    ready_visit(physician, patient)
    signed_procedure(patient, sites=(("masseter", "left"),), by=physician)
    entries_for(patient, physician)
    for user in (nurse, front_desk):
        assert entries_for(patient, user) == _uncached(patient, user, settings)
    assert entries_for(patient, front_desk) != entries_for(patient, physician)


def test_a_new_clinic_day_recomputes(patient, physician):
    from triggerpoint.aftercare.tests.factories import signed_procedure

    signed_procedure(patient, sites=(("masseter", "left"),), by=physician)
    entries_for(patient, physician)
    assert _counted(patient, physician)[0] <= 2
    with freeze_time(timezone.now() + timedelta(days=1)):
        assert _counted(patient, physician)[0] >= 10


def test_a_rolled_back_change_keeps_the_cache_of_the_rows_that_stayed(patient, physician, settings):
    from django.db import transaction

    from triggerpoint.assessment.tests.factories import ready_visit

    entries_for(patient, physician)
    with pytest.raises(RuntimeError), transaction.atomic():
        ready_visit(physician, patient)
        raise RuntimeError("the visit is not kept")
    assert entries_for(patient, physician) == _uncached(patient, physician, settings)
    assert _counted(patient, physician)[0] <= 2


def test_the_list_is_built_escaped_in_the_clinics_zone():
    from datetime import UTC, datetime

    from triggerpoint.patients.timeline import TimelineEntry, entries_html

    late = TimelineEntry(at=datetime(2026, 12, 6, 2, 30, tzinfo=UTC), kind="check-in", title="<b>Day 1</b>",
                         summary='fever "39" & <script>x</script>', url="/c/?a=1&b=2", status="Urgent")
    plain = TimelineEntry(at=datetime(2026, 12, 6, 15, 0, tzinfo=UTC), kind="procedure", title="Note")
    with timezone.override("America/Chicago"):
        html = entries_html([late, plain])
    assert '<time datetime="2026-12-05T20:30:00-06:00">2026-12-05</time>' in html  # the clinic's day, not UTC's
    assert '<a href="/c/?a=1&amp;b=2">&lt;b&gt;Day 1&lt;/b&gt;</a>' in html
    assert '<p class="hint">fever &quot;39&quot; &amp; &lt;script&gt;x&lt;/script&gt;</p>' in html
    assert '<span class="pill">Urgent</span>' in html and "<script>" not in html
    assert '<li class="tl-procedure">' in html and "Note" in html and html.count("<li") == 2
    assert "No visits, procedures or check-ins yet." in entries_html([])
