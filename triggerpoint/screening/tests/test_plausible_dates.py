"""Issue 13: every date a client can send to screening evaluate, or in the questionnaire answers, lies
in its plausible clinical window (`core.plausible`); one day outside is a 422 naming the field."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.answers import parse_answers
from triggerpoint.screening.schemas import parse_screening_request
from triggerpoint.screening.tests.builders import payload

DAY = timedelta(days=1)


def _problems(body) -> list[str]:
    try:
        parse_screening_request(body)
    except RuleInputError as exc:
        return exc.problems
    return []


def _window(kind: str) -> str:
    earliest, latest = plausible.bounds(kind)
    return f"must be between {earliest.isoformat()} and {latest.isoformat()}"


def _body(procedure_date, **sections):
    body = payload(**sections)
    body["procedure_date"] = procedure_date.isoformat()
    return body


def test_the_procedure_date_is_a_scheduled_date_both_edges_in_one_day_beyond_out():
    earliest, latest = plausible.bounds("scheduled")
    assert _problems(_body(earliest)) == []
    assert _problems(_body(latest)) == []
    for day in (earliest - DAY, latest + DAY):
        assert _problems(_body(day)) == [f"procedure_date {_window('scheduled')}"]


@pytest.mark.parametrize("field", ["date", "end_date"])
def test_event_dates_are_history_dates(field):
    earliest, latest = plausible.bounds("history")
    procedure_day = latest + 5 * DAY  # a planned procedure; events come before it

    def event(day):
        start = earliest if field == "end_date" else day
        item = {"type": "fever", "date": start.isoformat()}
        if field == "end_date":
            item["end_date"] = day.isoformat()
        return _body(procedure_day, events=[item])

    assert _problems(event(earliest)) == []
    assert _problems(event(latest)) == []
    assert f"events[0].{field} {_window('history')}" in _problems(event(earliest - DAY))
    assert _problems(event(latest + DAY)) == [f"events[0].{field} {_window('history')}"]


def test_the_inr_date_is_a_recorded_date():
    earliest, latest = plausible.bounds("recorded")
    procedure_day = latest + 5 * DAY

    def inr(day):
        return _body(procedure_day, patient={"inr": {"value": 1.1, "date": day.isoformat()}})

    assert _problems(inr(earliest)) == []
    assert _problems(inr(latest)) == []
    for day in (earliest - DAY, latest + DAY):
        assert _problems(inr(day)) == [f"patient.inr.date {_window('recorded')}"]


def test_the_last_toxin_date_is_a_history_date():
    earliest, latest = plausible.bounds("history")
    procedure_day = latest + 5 * DAY

    def toxin(day):
        return _body(procedure_day, history={"last_botulinum_toxin_date": day.isoformat()})

    assert _problems(toxin(earliest)) == []
    assert _problems(toxin(latest)) == []
    for day in (earliest - DAY, latest + DAY):
        assert _problems(toxin(day)) == [f"history.last_botulinum_toxin_date {_window('history')}"]


@pytest.mark.django_db
def test_the_api_answers_year_9999_with_a_422_naming_the_field_never_a_500(client, bearer, nurse):
    body = payload(events=[{"type": "illness", "date": "0001-01-01"}])
    body["procedure_date"] = "9999-12-31"
    response = client.post("/api/v1/screening/evaluate", data=json.dumps(body), content_type="application/json",
                           **bearer(nurse))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert f"procedure_date {_window('scheduled')}" in detail
    assert f"events[0].date {_window('history')}" in detail


def test_questionnaire_event_and_inr_dates_before_their_window_are_refused_at_the_edge_accepted():
    today = timezone.localdate()
    procedure_day = today + 5 * DAY
    history_start = plausible.bounds("history")[0]
    recorded_start = plausible.bounds("recorded")[0]

    def answers(event_day, inr_day):
        return {"events": [{"type": "fever", "date": event_day.isoformat()}],
                "inr": {"value": 1.2, "date": inr_day.isoformat()}}

    stored = parse_answers(answers(history_start, recorded_start), procedure_day, today)
    assert stored["events"][0]["date"] == history_start.isoformat()
    assert stored["inr"]["date"] == recorded_start.isoformat()
    with pytest.raises(RuleInputError) as refused:
        parse_answers(answers(history_start - DAY, recorded_start - DAY), procedure_day, today)
    assert refused.value.problems == [f"events[0].date {_window('history')}", f"inr.date {_window('recorded')}"]
    # After the day of answering is still "in the future", the message the patient form translates.
    with pytest.raises(RuleInputError) as future:
        parse_answers(answers(today + DAY, today), procedure_day, today)
    assert future.value.problems == [f"events[0].date {(today + DAY).isoformat()} is in the future"]
