"""A questionnaire sent with required questions unanswered is refused, naming each question in the
patient's language, and nothing is stored: the request stays open and the registry and analytics
only ever count complete questionnaires (the choice documented in catalogues.instrument_scoring.unanswered_required_items).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun import freeze_time

from triggerpoint.catalogues import instrument_scoring
from triggerpoint.catalogues import instruments as inst
from triggerpoint.notifications import services as outbox
from triggerpoint.outcomes import outcome_requests, services
from triggerpoint.outcomes.models import Measurement, OutcomeRequest, ProcedureOutcome, RequestStatus
from triggerpoint.outcomes.tests.factories import signed_procedure

DAY = date(2026, 1, 5)
OPEN = "2026-01-20 16:00:00"
COMPLETE = {"nrs_pain__now": "3", "nrs_pain__average": "4", "nrs_pain__worst": "6", "percent_relief__relief": "70",
            "pgic__change": "2", "peg3__pain": "3", "peg3__enjoyment": "2", "peg3__activity": "5"}
WITHOUT_WORST_AND_PGIC = {k: v for k, v in COMPLETE.items() if k not in ("nrs_pain__worst", "pgic__change")}


def _link(request, valid_for=timedelta(days=20)) -> str:
    _row, token = outbox.issue_link(request.patient, outcome_requests.LINK_PURPOSE, request, valid_for)
    return f"/outcomes/r/{token}/"


def _two_week_request(patient, physician) -> OutcomeRequest:
    return OutcomeRequest.objects.get(procedure=signed_procedure(patient, physician, DAY), time_point="2w")


# ---------------------------------------------------------------------------------- the pure rule
def test_every_item_of_a_short_form_is_required():
    peg = inst.get_instrument("peg3")
    assert instrument_scoring.unanswered_required_items(peg, {"pain": 3, "enjoyment": 2, "activity": 5}) == ()
    assert instrument_scoring.unanswered_required_items(peg, {"pain": 3, "enjoyment": None, "activity": 5}) == ("enjoyment",)
    nrs = inst.get_instrument("nrs_pain")
    assert instrument_scoring.unanswered_required_items(nrs, {"now": 3, "average": 4}) == ("worst",)


def test_the_ndi_may_leave_one_section_unanswered_but_not_two():
    ndi = inst.get_instrument("ndi")
    everything = {item_id: 1 for item_id in ndi.item_ids}
    one_missing = dict(everything, **{ndi.item_ids[-1]: None})
    two_missing = dict(one_missing, **{ndi.item_ids[0]: None})
    assert instrument_scoring.unanswered_required_items(ndi, everything) == ()
    assert instrument_scoring.unanswered_required_items(ndi, one_missing) == ()
    assert instrument_scoring.unanswered_required_items(ndi, two_missing) == (ndi.item_ids[0], ndi.item_ids[-1])


# ---------------------------------------------------------------------------------- the service
@pytest.mark.django_db
def test_a_partial_submission_stores_nothing_and_keeps_the_request_open(patient, physician):
    with freeze_time(OPEN):
        request = _two_week_request(patient, physician)
        with pytest.raises(services.IncompleteAnswers) as caught:
            services.answer_request(request, {"nrs_pain": {"now": 3, "average": 4, "worst": None},
                                              "percent_relief": {"relief": 70}}, "checkin")
    assert ("nrs_pain", "worst") in caught.value.unanswered
    assert ("pgic", "change") in caught.value.unanswered and ("peg3", "pain") in caught.value.unanswered
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert not Measurement.objects.filter(request=request).exists()
    outcome = ProcedureOutcome.objects.get(procedure=request.procedure)  # written at signing; must exist
    assert outcome.relief_2w is None


@pytest.mark.django_db
def test_a_bad_value_is_reported_together_with_the_unanswered_questions(patient, physician):
    with freeze_time(OPEN):
        request = _two_week_request(patient, physician)
        with pytest.raises(services.IncompleteAnswers) as caught:
            services.answer_request(request, {"nrs_pain": {"now": 11, "average": 4, "worst": 6}}, "checkin")
    assert any("out of range" in problem for problem in caught.value.problems)
    assert ("pgic", "change") in caught.value.unanswered


# ---------------------------------------------------------------------------------- the pages
@pytest.mark.django_db
def test_the_english_form_names_each_unanswered_question(client, patient, physician):
    with freeze_time(OPEN):
        request = _two_week_request(patient, physician)
        response = client.post(_link(request), WITHOUT_WORST_AND_PGIC)
    html = response.content.decode()
    assert response.status_code == 422
    worst = inst.get_instrument("nrs_pain").item("worst").text.en
    change = inst.get_instrument("pgic").item("change").text.en
    assert f"Please answer this question: {worst}" in html
    assert f"Please answer this question: {change}" in html
    assert "nrs_pain worst" not in html
    assert 'value="70"' in html  # what the patient did answer is kept on the form
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


@pytest.mark.django_db
def test_the_spanish_form_names_each_unanswered_question_in_spanish(client, patient, physician):
    patient.preferred_language = "es"
    patient.save()
    with freeze_time(OPEN):
        response = client.post(_link(_two_week_request(patient, physician)), WITHOUT_WORST_AND_PGIC)
    html = response.content.decode()
    assert response.status_code == 422
    worst = inst.get_instrument("nrs_pain").item("worst").text.es
    assert f"Por favor, responda esta pregunta: {worst}" in html
    assert "Please answer" not in html and "please answer" not in html


@pytest.mark.django_db
def test_a_complete_submission_is_still_stored_and_counted(client, patient, physician):
    with freeze_time(OPEN):
        request = _two_week_request(patient, physician)
        assert client.post(_link(request), COMPLETE).status_code == 200
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert Measurement.objects.filter(request=request).count() == 4
    assert ProcedureOutcome.objects.get(procedure=request.procedure).relief_2w == 70
