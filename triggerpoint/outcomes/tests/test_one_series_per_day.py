"""Two notes for one patient on one procedure date: one series of follow-up questionnaires.

The day's first note gets the 2/6/12-week requests; a later note of the day keeps its own
in-clinic readings (its pre/post NRS) and shares the day's follow-up answers in its report row,
instead of the patient being asked the same questions twice about the same day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from triggerpoint.notifications.models import Notification
from triggerpoint.outcomes.models import OutcomeRequest, ProcedureOutcome
from triggerpoint.outcomes.outcome_requests import REQUEST_KIND
from triggerpoint.outcomes.schedule import FOLLOW_UP_CHOICES, IN_CLINIC_POINTS, outcome_schedule
from triggerpoint.outcomes.tests.factories import answer, signed_procedure

pytestmark = pytest.mark.django_db

DAY = date.today() + timedelta(days=1)
FOLLOW_UPS = [point for point, _days in outcome_schedule().follow_up_days]


def _points(procedure) -> set[str]:
    return set(OutcomeRequest.objects.filter(procedure=procedure).values_list("time_point", flat=True))


def test_a_second_note_of_the_day_gets_no_second_follow_up_series(patient, physician):
    first = signed_procedure(patient, physician, DAY, pre=7, post=2)
    messages = Notification.objects.filter(kind=REQUEST_KIND).count()
    second = signed_procedure(patient, physician, DAY, sites=(("masseter", "right"),), pre=6, post=1)

    assert _points(first) == {*IN_CLINIC_POINTS, *FOLLOW_UPS}
    assert _points(second) == set(IN_CLINIC_POINTS)  # its own in-clinic readings, no questionnaires
    assert Notification.objects.filter(kind=REQUEST_KIND).count() == messages
    assert OutcomeRequest.objects.filter(patient=patient, time_point__in=FOLLOW_UP_CHOICES).count() == len(FOLLOW_UPS)
    assert ProcedureOutcome.objects.get(procedure=second).baseline_pain == 6.0


def test_the_days_follow_up_answers_count_for_each_of_its_notes(patient, physician):
    first = signed_procedure(patient, physician, DAY)
    second = signed_procedure(patient, physician, DAY, sites=(("masseter", "right"),))
    answer(first, "2w", days=14, pain=3, relief=60)
    for note in (first, second):
        row = ProcedureOutcome.objects.get(procedure=note)
        assert row.pain_2w == 3.0 and row.relief_2w == 60.0, note


def test_notes_of_different_days_each_get_their_series(patient, physician):
    first = signed_procedure(patient, physician, DAY - timedelta(days=100))
    second = signed_procedure(patient, physician, DAY)
    assert _points(first) == _points(second) == {*IN_CLINIC_POINTS, *FOLLOW_UPS}
    answer(first, "2w", days=14, pain=3)
    assert ProcedureOutcome.objects.get(procedure=second).pain_2w is None


def test_scheduling_the_second_note_again_adds_nothing(patient, physician):
    from triggerpoint.outcomes.outcome_requests import schedule_outcome_requests

    signed_procedure(patient, physician, DAY)
    second = signed_procedure(patient, physician, DAY, sites=(("masseter", "right"),))
    before = OutcomeRequest.objects.count()
    schedule_outcome_requests(second)
    assert OutcomeRequest.objects.count() == before
