"""The .ics file is valid iCalendar that a second, independent parser reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import vobject

from triggerpoint.aftercare.calendar import PRODID, plan_to_ics

STAMP = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def dst_plan(make_plan):
    return make_plan(procedure_date="2026-02-26", injectates=[{"drug": "Kenalog"}])  # crosses Feb→Mar and DST


def parse(ics: bytes):
    return vobject.readOne(ics.decode("utf-8"))


def test_it_parses_with_vobject_and_has_one_all_day_event_per_plan_day(dst_plan):
    calendar = parse(
        plan_to_ics(dst_plan, clinic_name="Maple Pain Clinic", clinic_phone="555-0100", dtstamp=STAMP)
    )
    events = calendar.vevent_list
    assert len(events) == len(dst_plan.days) == 11
    starts = [event.dtstart.value for event in events]
    assert starts == [day.date for day in dst_plan.days]
    assert starts[0] == date(2026, 2, 26) and starts[-1] == date(2026, 3, 8)
    for event in events:
        assert type(event.dtstart.value) is date  # all-day, not a datetime
        assert event.dtend.value - event.dtstart.value == timedelta(days=1)
        assert event.dtstamp.value == STAMP


def test_each_event_holds_that_days_tasks_and_whom_to_call(dst_plan):
    calendar = parse(
        plan_to_ics(dst_plan, clinic_name="Maple Pain Clinic", clinic_phone="555-0100", dtstamp=STAMP)
    )
    for event, day in zip(calendar.vevent_list, dst_plan.days, strict=True):
        description = event.description.value
        for task in day.tasks:
            assert task.text in description
        assert "555-0100" in description
        assert f"day {day.day_number}" in event.summary.value


def test_it_has_a_prodid_and_stable_unique_uids(dst_plan):
    first = parse(plan_to_ics(dst_plan, clinic_name="C", clinic_phone="1", plan_key="plan-42", dtstamp=STAMP))
    second = parse(plan_to_ics(dst_plan, clinic_name="C", clinic_phone="1", plan_key="plan-42"))
    other = parse(plan_to_ics(dst_plan, clinic_name="C", clinic_phone="1", plan_key="plan-43", dtstamp=STAMP))
    assert first.prodid.value == PRODID
    uids = [event.uid.value for event in first.vevent_list]
    assert len(set(uids)) == len(uids)
    assert uids == [event.uid.value for event in second.vevent_list]
    assert set(uids).isdisjoint(event.uid.value for event in other.vevent_list)


def test_the_patient_name_appears_only_in_the_calendar_name(make_plan):
    ics = plan_to_ics(make_plan(), "Pat Example", clinic_name="C", clinic_phone="1", dtstamp=STAMP)
    calendar = parse(ics)
    assert calendar.contents["x-wr-calname"][0].value == "Aftercare plan for Pat Example"
    assert all("Pat Example" not in event.description.value for event in calendar.vevent_list)


def test_a_spanish_plan_gives_a_spanish_calendar(make_plan):
    calendar = parse(plan_to_ics(make_plan(language="es"), clinic_name="C", clinic_phone="1", dtstamp=STAMP))
    assert calendar.vevent_list[0].summary.value.startswith("Cuidados")
    assert "Llame" in calendar.vevent_list[0].description.value
