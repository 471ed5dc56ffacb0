"""Pinned validation of the follow-up triage settings: bad values are refused, with their message (issue 14).

The settings are the warning-window table (data/warning_windows.yaml: how many days each group of signs is paged)
and the clinic's check-in plan (schedule.parse_slots / CheckInPlan). Every value and message here is literal.
Only public names are used (content's loader and validator, windows.load_windows, schedule's parser and plan).
"""

from __future__ import annotations

import copy
import shutil
from datetime import time, timedelta

import pytest
import yaml

from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup import content
from triggerpoint.followup.content import FollowupDataError, load_document, validate_document
from triggerpoint.followup.schedule import CheckInPlan, CheckInSlot, parse_slots
from triggerpoint.followup.windows import load_windows

SCHEMA = "warning_windows.schema.json"


def shipped() -> dict:
    return copy.deepcopy(load_document("warning_windows.yaml", SCHEMA))


def refused(document) -> list[str]:
    with pytest.raises(FollowupDataError) as error:
        validate_document(document, SCHEMA, "warning_windows.yaml")
    return error.value.problems


# --------------------------------------------------------------------------- the shipped table, literally


def test_the_shipped_windows_are_5_days_14_days_and_12_weeks():
    windows = load_windows()
    assert [(w.id, w.days, w.placeholder) for w in windows.windows] == [
        ("fever_allergy", 5, "fever_days"),
        ("local_infection", 14, "site_days"),
        ("toxin_spread", 84, "toxin_weeks"),
    ]
    assert windows.placeholders() == {"fever_days": 5, "site_days": 14, "toxin_weeks": 12}
    assert windows.get("fever_allergy").rules == ("TRI-URG-FEVER", "TRI-URG-FEVER-UNMEASURED", "TRI-URG-ALLERGY")
    assert windows.get("local_infection").rules == ("TRI-URG-SITE", "TRI-URG-PAIN")
    assert windows.get("toxin_spread").rules == ("TRI-TOXIN-SPREAD",)


def test_an_unknown_window_id_is_refused_naming_the_known_ones():
    with pytest.raises(KeyError) as error:
        load_windows().get("fever")
    assert error.value.args[0] == (
        "unknown warning window 'fever'; known: ['fever_allergy', 'local_infection', 'toxin_spread']"
    )


# --------------------------------------------------------------------------- the schema refuses bad values


def test_the_shipped_table_passes_its_schema():
    validate_document(shipped(), SCHEMA, "warning_windows.yaml")


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (-1, "warning_windows.yaml windows/0/days: -1 is less than the minimum of 0"),
        (366, "warning_windows.yaml windows/0/days: 366 is greater than the maximum of 365"),
        (5.5, "warning_windows.yaml windows/0/days: 5.5 is not of type 'integer'"),
        ("5", "warning_windows.yaml windows/0/days: '5' is not of type 'integer'"),
    ],
)
def test_a_window_length_outside_0_to_365_whole_days_is_refused(days, message):
    document = shipped()
    document["windows"][0]["days"] = days
    assert refused(document) == [message]


@pytest.mark.parametrize("days", [0, 365])
def test_0_and_365_days_are_accepted(days):
    document = shipped()
    document["windows"][0]["days"] = days
    validate_document(document, SCHEMA, "warning_windows.yaml")


def test_an_unknown_window_id_in_the_table_is_refused():
    document = shipped()
    document["windows"][0]["id"] = "rash"
    assert refused(document) == [
        "warning_windows.yaml windows/0/id: 'rash' is not one of ['fever_allergy', 'local_infection', 'toxin_spread']"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("placeholder", "fever", "windows/0/placeholder: 'fever' does not match '^[a-z_]+_(days|weeks)$'"),
        ("rules", [], "windows/0/rules: [] should be non-empty"),
        ("rules", ["URG-FEVER"], "windows/0/rules/0: 'URG-FEVER' does not match '^TRI-[A-Z-]+$'"),
        ("basis", "too short", "windows/0/basis: 'too short' is too short"),
        ("sources", [], "windows/0/sources: [] should be non-empty"),
    ],
)
def test_bad_window_fields_are_refused_with_their_path(field, value, message):
    document = shipped()
    document["windows"][0][field] = value
    assert refused(document) == [f"warning_windows.yaml {message}"]


def test_a_missing_field_and_an_unknown_field_are_refused():
    document = shipped()
    del document["windows"][1]["days"]
    document["windows"][1]["hours"] = 24
    assert refused(document) == [
        "warning_windows.yaml windows/1: 'days' is a required property",
        "warning_windows.yaml windows/1: Additional properties are not allowed ('hours' was unexpected)",
    ]


# --------------------------------------------------------------------------- the loader's own consistency checks


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A copy of the follow-up data folder the loader reads instead of the shipped one."""
    shutil.copy(content.DATA_DIR / SCHEMA, tmp_path / SCHEMA)
    shutil.copy(content.DATA_DIR / "warning_windows.yaml", tmp_path / "warning_windows.yaml")
    monkeypatch.setattr(content, "DATA_DIR", tmp_path)
    load_windows.cache_clear()
    yield tmp_path
    load_windows.cache_clear()


def write(folder, document) -> None:
    (folder / "warning_windows.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")


def load_problems() -> list[str]:
    with pytest.raises(FollowupDataError) as error:
        load_windows()
    return error.value.problems


def test_a_toxin_window_that_is_not_whole_weeks_is_refused(data_dir):
    document = shipped()
    document["windows"][2]["days"] = 85
    write(data_dir, document)
    assert load_problems() == ["warning_windows.yaml toxin_spread: 85 days is not a whole number of weeks"]


def test_a_toxin_window_of_13_weeks_loads_and_is_shown_as_13(data_dir):
    document = shipped()
    document["windows"][2]["days"] = 91
    write(data_dir, document)
    assert load_windows().placeholders()["toxin_weeks"] == 13


def test_a_days_window_need_not_be_whole_weeks(data_dir):
    document = shipped()
    document["windows"][0]["days"] = 6
    write(data_dir, document)
    assert load_windows().days("fever_allergy") == 6


def test_each_required_window_must_appear_exactly_once(data_dir):
    document = shipped()
    document["windows"] = [document["windows"][0], document["windows"][0], document["windows"][2]]
    write(data_dir, document)
    assert load_problems() == [
        "warning_windows.yaml: window 'fever_allergy' must appear exactly once",
        "warning_windows.yaml: window 'local_infection' must appear exactly once",
    ]


def test_a_schema_error_is_reported_by_the_loader_too(data_dir):
    document = shipped()
    document["windows"][1]["days"] = -14
    write(data_dir, document)
    assert load_problems() == ["warning_windows.yaml windows/1/days: -14 is less than the minimum of 0"]


# --------------------------------------------------------------------------- the clinic's check-in plan


def test_the_default_plan_is_day_0_at_18_then_days_1_3_5_at_10():
    plan = CheckInPlan()
    assert [slot.as_dict() for slot in plan.slots] == [
        {"day": 0, "time": "18:00"},
        {"day": 1, "time": "10:00"},
        {"day": 3, "time": "10:00"},
        {"day": 5, "time": "10:00"},
    ]
    assert plan.link_valid_for == timedelta(hours=48)
    assert plan.overdue_after == timedelta(hours=12)
    assert plan.report_window_days == 14


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (None, ['slots: must be a non-empty list of {"day": int, "time": "HH:MM"}']),
        ([], ['slots: must be a non-empty list of {"day": int, "time": "HH:MM"}']),
        (["x"], ['slots[0]: must be an object {"day", "time"}']),
        ([{"day": -1, "time": "10:00"}], ["slots[0].day: must be a whole number from 0 to 30, got -1"]),
        ([{"day": 31, "time": "10:00"}], ["slots[0].day: must be a whole number from 0 to 30, got 31"]),
        ([{"day": True, "time": "10:00"}], ["slots[0].day: must be a whole number from 0 to 30, got True"]),
        ([{"day": 1.0, "time": "10:00"}], ["slots[0].day: must be a whole number from 0 to 30, got 1.0"]),
        ([{"day": 1, "time": 10}], ["slots[0].time: must be a local time 'HH:MM', got 10"]),
        ([{"day": 1, "time": "25:00"}], ["slots[0].time: '25:00' is not a time (HH:MM, 24-hour)"]),
        (
            [{"day": 1, "time": "10:00", "zone": "UTC"}],
            ["slots[0]: unknown field(s) ['zone']; allowed: ['day', 'time']"],
        ),
        (
            [{"day": 3, "time": "10:00"}, {"day": 3, "time": "18:00"}],
            ["slots: more than one check-in on day(s) [3]"],
        ),
    ],
)
def test_a_bad_check_in_plan_is_refused_with_its_message(raw, problems):
    with pytest.raises(RuleInputError) as error:
        parse_slots(raw)
    assert error.value.problems == problems


def test_days_0_and_30_are_the_ends_of_the_plan():
    assert parse_slots([{"day": 30, "time": "09:05:59"}, {"day": 0, "time": "18:00"}]) == (
        CheckInSlot(0, time(18, 0)),
        CheckInSlot(30, time(9, 5)),
    )


def test_a_plan_with_two_check_ins_on_one_day_is_refused():
    with pytest.raises(ValueError, match="^at most one check-in per day$"):
        CheckInPlan(slots=(CheckInSlot(1, time(10, 0)), CheckInSlot(1, time(18, 0))))


def test_a_check_in_cannot_be_overdue_after_its_link_expired():
    with pytest.raises(ValueError, match="^a check-in cannot become overdue after its link has expired$"):
        CheckInPlan(link_valid_for=timedelta(hours=12), overdue_after=timedelta(hours=12, minutes=1))
    assert CheckInPlan(link_valid_for=timedelta(hours=12), overdue_after=timedelta(hours=12)).overdue_after == (
        timedelta(hours=12)
    )
