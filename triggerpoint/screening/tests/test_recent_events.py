"""The clinic's 4-week rule: fever, antibiotics, illness or hospital stay in the 28 days before."""

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.rules import EVENT_TYPES, ScreeningPolicy
from triggerpoint.screening.tests.builders import days_before, payload, screen, severities_of


def with_events(*events):
    return payload(events=list(events))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_an_event_on_day_28_before_the_procedure_counts(event_type):
    result = screen(with_events({"type": event_type, "date": days_before(28)}))
    assert severities_of(result, "SCR-RECENT-ILLNESS") == ["review"]
    assert result.status == "review"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_an_event_on_day_29_before_the_procedure_does_not_count(event_type):
    result = screen(with_events({"type": event_type, "date": days_before(29)}))
    assert severities_of(result, "SCR-RECENT-ILLNESS") == []
    assert result.status == "ready"


def test_an_event_the_day_before_the_procedure_counts():
    assert severities_of(screen(with_events({"type": "fever", "date": days_before(1)})), "SCR-RECENT-ILLNESS") == ["review"]


def test_a_course_that_started_earlier_but_ended_on_day_28_counts():
    event = {"type": "antibiotics", "date": days_before(40), "end_date": days_before(28)}
    assert severities_of(screen(with_events(event)), "SCR-RECENT-ILLNESS") == ["review"]


def test_a_course_that_ended_on_day_29_does_not_count():
    event = {"type": "antibiotics", "date": days_before(40), "end_date": days_before(29)}
    assert severities_of(screen(with_events(event)), "SCR-RECENT-ILLNESS") == []


def test_a_course_still_running_on_the_procedure_day_counts():
    event = {"type": "antibiotics", "date": days_before(3), "end_date": days_before(-2)}
    assert severities_of(screen(with_events(event)), "SCR-RECENT-ILLNESS") == ["review"]


def test_each_counting_event_is_its_own_finding():
    result = screen(with_events({"type": "fever", "date": days_before(5)}, {"type": "hospitalization", "date": days_before(20)}))
    assert severities_of(result, "SCR-RECENT-ILLNESS") == ["review", "review"]


def test_a_clinic_may_shorten_the_window():
    policy = ScreeningPolicy(recent_event_window_days=14)
    assert severities_of(screen(with_events({"type": "illness", "date": days_before(14)}), policy), "SCR-RECENT-ILLNESS") == ["review"]
    assert severities_of(screen(with_events({"type": "illness", "date": days_before(15)}), policy), "SCR-RECENT-ILLNESS") == []


def test_a_clinic_may_defer_instead_of_review_for_recent_events():
    policy = ScreeningPolicy(recent_event_severity="defer")
    assert screen(with_events({"type": "fever", "date": days_before(2)}), policy).status == "defer"


def test_a_policy_may_not_lower_recent_events_below_review():
    with pytest.raises(ValueError, match="recent_event_severity"):
        ScreeningPolicy(recent_event_severity="info")


def test_an_event_starting_on_the_procedure_day_is_refused_and_pointed_at_today():
    with pytest.raises(RuleInputError) as error:
        screen(with_events({"type": "fever", "date": days_before(0)}))
    assert "today" in str(error.value)


def test_an_event_ending_before_it_starts_is_refused():
    with pytest.raises(RuleInputError, match="end_date"):
        screen(with_events({"type": "illness", "date": days_before(5), "end_date": days_before(6)}))
