"""A clinical day is the clinic's local day, also where no signed-in request set the time zone.

For five hours every evening in New York the UTC date is already tomorrow. Code reached without a
signed-in user (a tokenised patient link, the worker) has no clinic zone activated, so "today" must
come from `Clinic.today()`. These tests deactivate the zone the way those paths run and freeze the
clock on both sides of the clinic's midnight.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.assessment import visit_drafting
from triggerpoint.clinics.models import Clinic
from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import services as outcome_services
from triggerpoint.outcomes.models import OutcomeRequest, RequestStatus
from triggerpoint.outcomes.tests.factories import signed_procedure

pytestmark = pytest.mark.django_db

COMPLETE_ANSWERS = {"nrs_pain": {"now": 3, "average": 3, "worst": 5}, "percent_relief": {"relief": 50},
                    "pgic": {"change": 2}, "peg3": {"pain": 3, "enjoyment": 3, "activity": 3}}


@pytest.fixture
def outside_a_request():
    timezone.deactivate()
    yield


@pytest.mark.parametrize(("utc", "new_york", "madrid"), [
    ("2026-12-06 04:59:59", date(2026, 12, 5), date(2026, 12, 6)),  # 23:59:59 in New York
    ("2026-12-06 05:00:00", date(2026, 12, 6), date(2026, 12, 6)),  # midnight in New York
    ("2026-12-05 22:59:59", date(2026, 12, 5), date(2026, 12, 5)),  # 23:59:59 in Madrid
    ("2026-12-05 23:00:00", date(2026, 12, 5), date(2026, 12, 6)),  # midnight in Madrid
])
def test_the_clinics_today_turns_at_its_own_midnight(outside_a_request, utc, new_york, madrid):
    with freeze_time(utc):
        assert Clinic(name="NY", time_zone="America/New_York").today() == new_york
        assert Clinic(name="Madrid", time_zone="Europe/Madrid").today() == madrid


def test_a_questionnaire_answered_by_link_on_its_last_evening_is_still_open(outside_a_request, patient, physician):
    assert patient.clinic.time_zone == "America/New_York"
    procedure = signed_procedure(patient, physician, date(2026, 11, 1))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    with freeze_time(f"{request.answer_by + timedelta(days=1)} 01:30:00"):  # 20:30 in New York, its last day
        created = outcome_services.answer_request(request, COMPLETE_ANSWERS, "checkin")
    assert created
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


def test_a_questionnaire_answered_by_link_after_its_last_day_is_closed(outside_a_request, patient, physician):
    procedure = signed_procedure(patient, physician, date(2026, 11, 1))
    request = OutcomeRequest.objects.get(procedure=procedure, time_point="2w")
    with freeze_time(f"{request.answer_by + timedelta(days=1)} 05:00:00"), pytest.raises(RuleInputError) as refused:
        outcome_services.answer_request(request, COMPLETE_ANSWERS, "checkin")  # midnight in New York: the next day
    assert f"closed on {request.answer_by}" in str(refused.value)


def test_an_assessment_opened_in_the_evening_is_dated_the_clinics_day(outside_a_request, patient, physician):
    with freeze_time("2026-12-06 01:30:00"):  # 20:30 on 5 December in New York
        visit = visit_drafting.create_visit(physician, patient)
    assert visit.visit_date == date(2026, 12, 5)
