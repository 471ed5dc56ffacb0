"""Issue 14 rules, pure: the warning-sign windows table, botulinum toxin spread (12 weeks), new
nerve signs without toxin, and unread alarm words. Boundaries are tested on both sides with
literal days."""

from __future__ import annotations

import pytest

from triggerpoint.core.rules import RuleInputError
from triggerpoint.followup.content import FollowupDataError
from triggerpoint.followup.tests.helpers import checkin
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS, parse_triage_request, triage, triage_rules
from triggerpoint.followup.windows import _build, load_windows


def run(payload):
    return triage(parse_triage_request(payload), None)


def day(n: int) -> str:
    """reported_at on day n after the 2025-03-03 procedure, 09:00 clinic time."""
    from datetime import date, timedelta

    reported = date(2025, 3, 3) + timedelta(days=n)
    return f"{reported.isoformat()}T09:00:00-04:00"


# ----------------------------------------------------------------------------- the windows table


def test_the_windows_table_holds_5_14_and_84_days_and_triage_reads_it():
    windows = load_windows()
    assert (windows.days("fever_allergy"), windows.days("local_infection"), windows.days("toxin_spread")) == (5, 14, 84)
    assert windows.placeholders() == {"fever_days": 5, "site_days": 14, "toxin_weeks": 12}
    assert (DEFAULT_THRESHOLDS.urgent_window_days, DEFAULT_THRESHOLDS.local_infection_window_days,
            DEFAULT_THRESHOLDS.toxin_spread_window_days) == (5, 14, 84)


def test_articles_name_windows_by_token_and_an_unknown_window_is_refused():
    windows = load_windows()
    assert windows.expand_article("within {{window:local_infection}} days, {{window_weeks:toxin_spread}} weeks") == (
        "within 14 days, 12 weeks")
    with pytest.raises(FollowupDataError, match="unknown warning window"):
        windows.expand_article("{{window:fever}}")


def test_a_toxin_window_that_is_not_whole_weeks_is_refused():
    document = {"version": 1, "windows": [
        {"id": "fever_allergy", "days": 5, "placeholder": "fever_days", "rules": ["TRI-URG-FEVER"], "basis": "b",
         "sources": ["s"]},
        {"id": "local_infection", "days": 14, "placeholder": "site_days", "rules": ["TRI-URG-SITE"], "basis": "b",
         "sources": ["s"]},
        {"id": "toxin_spread", "days": 80, "placeholder": "toxin_weeks", "rules": ["TRI-TOXIN-SPREAD"], "basis": "b",
         "sources": ["s"]},
    ]}
    with pytest.raises(FollowupDataError, match="80 days is not a whole number of weeks"):
        _build(document)


# ----------------------------------------------------------------------------- botulinum toxin spread


@pytest.mark.parametrize(("symptom", "on_day", "expected"), [
    ("trouble_swallowing", 0, "emergency"), ("trouble_swallowing", 84, "emergency"),
    ("trouble_speaking", 84, "emergency"), ("generalised_weakness", 84, "emergency"),
    ("drooping_eyelid", 84, "urgent"), ("double_vision", 84, "urgent"),
    ("trouble_swallowing", 85, "routine"), ("drooping_eyelid", 85, "routine"),
])
def test_toxin_spread_signs_act_for_84_days_after_a_toxin_injection(symptom, on_day, expected):
    result = run(checkin(reported_at=day(on_day), symptoms=[symptom], botulinum_toxin=True))
    assert result.day == on_day
    assert result.disposition == expected


def test_toxin_spread_on_day_30_keeps_its_disposition_after_the_follow_up_window():
    result = run(checkin(reported_at=day(30), symptoms=["drooping_eyelid"], botulinum_toxin=True))
    assert result.disposition == "urgent"
    assert result.rule_ids == ("TRI-TOXIN-SPREAD",)
    (reason,) = result.reasons
    assert reason.version == 1 and "84 days" in reason.basis and "Distant Spread of Toxin Effect" in reason.basis


def test_unknown_toxin_status_is_read_as_possibly_given():
    result = run(checkin(reported_at=day(30), symptoms=["double_vision"]))
    assert result.disposition == "urgent" and result.rule_ids == ("TRI-TOXIN-SPREAD",)
    assert "not ruled out" in result.reasons[0].message


@pytest.mark.parametrize(("on_day", "expected"), [(3, "urgent"), (14, "urgent"), (15, "routine")])
def test_without_toxin_a_nerve_sign_pages_within_the_follow_up_window(on_day, expected):
    result = run(checkin(reported_at=day(on_day), symptoms=["drooping_eyelid"], botulinum_toxin=False))
    assert result.disposition == expected
    assert "TRI-TOXIN-SPREAD" not in result.rule_ids


def test_breathing_trouble_after_toxin_carries_the_toxin_reason_but_not_when_toxin_is_unknown():
    known = run(checkin(reported_at=day(20), symptoms=["trouble_breathing"], botulinum_toxin=True))
    unknown = run(checkin(reported_at=day(20), symptoms=["trouble_breathing"]))
    assert known.disposition == unknown.disposition == "emergency"
    assert "TRI-TOXIN-SPREAD" in known.rule_ids and "TRI-TOXIN-SPREAD" not in unknown.rule_ids
    assert "botulinum toxin" in known.instructions and "botulinum toxin" not in unknown.instructions


@pytest.mark.parametrize(("text", "expected"), [
    ("having a hard time swallowing", "emergency"),
    ("my words are slurred", "emergency"),
    ("my eyelid is drooping", "urgent"),
    ("me cuesta tragar", "emergency"),
    ("se me traba la lengua al hablar", "emergency"),
    ("me siento débil todo el cuerpo", "emergency"),
    ("se me cayó el párpado", "urgent"),
    ("veo doble", "urgent"),
])
def test_toxin_spread_is_read_in_english_and_spanish_text(text, expected):
    result = run(checkin(reported_at=day(40), free_text=text, botulinum_toxin=True))
    assert result.disposition == expected
    assert "TRI-TOXIN-SPREAD" in result.rule_ids


def test_a_toxin_patient_told_to_rest_is_reminded_of_the_12_week_signs_in_their_language():
    english = triage(parse_triage_request(checkin(reported_at=day(1), symptoms=["bruising"], botulinum_toxin=True)),
                     None)
    spanish = triage(parse_triage_request(checkin(reported_at=day(1), symptoms=["bruising"], botulinum_toxin=True)),
                     None, language="es")
    assert english.disposition == "self_care"
    assert "For 12 weeks after the shot, call 911" in english.instructions
    assert "Durante 12 semanas" in spanish.instructions and "le cuesta tragar" in spanish.instructions


@pytest.mark.parametrize("bad", ["yes", 1, 0, "true", []])
def test_botulinum_toxin_must_be_true_false_or_null(bad):
    with pytest.raises(RuleInputError, match="botulinum_toxin: must be true, false or null"):
        parse_triage_request(checkin(botulinum_toxin=bad))


def test_botulinum_toxin_null_means_unknown():
    assert parse_triage_request(checkin(botulinum_toxin=None)).botulinum_toxin is None


# ----------------------------------------------------------------------------- unread alarm words


@pytest.mark.parametrize(("text", "expected", "rule"), [
    ("my breathing feels kind of funny", "emergency", "TRI-EMERG-TEXT-ALARM-WORD"),
    ("algo raro me pasa en la garganta", "emergency", "TRI-EMERG-TEXT-ALARM-WORD"),
    ("siento algo extraño en el pecho", "emergency", "TRI-EMERG-TEXT-ALARM-WORD"),
    ("the swelling thing again", "urgent", "TRI-URG-SITE"),
    ("it looks swollish", "urgent", "TRI-URG-TEXT-ALARM-WORD"),
])
def test_unread_text_about_breathing_chest_throat_or_swelling_is_escalated_not_routine(text, expected, rule):
    result = run(checkin(reported_at=day(2), free_text=text))
    assert result.disposition == expected
    assert rule in result.rule_ids


def test_an_unread_alarm_word_escalates_even_after_the_follow_up_window():
    result = run(checkin(reported_at=day(20), free_text="my breathing feels kind of funny"))
    assert result.disposition == "emergency"


@pytest.mark.parametrize("text", ["my chest is fine", "la respiración bien", "respiro bien y no tengo fiebre"])
def test_a_reassurance_after_the_alarm_word_covers_it(text):
    assert run(checkin(reported_at=day(1), free_text=text)).disposition == "self_care"


def test_a_reassurance_before_the_alarm_word_does_not_cover_it():
    assert run(checkin(reported_at=day(1), free_text="im fine but my chest feels weird")).disposition == "emergency"


def test_every_new_rule_has_a_basis_and_sources():
    rules = triage_rules()
    for rule_id in ("TRI-TOXIN-SPREAD", "TRI-URG-NEURO-SIGN", "TRI-EMERG-TEXT-ALARM-WORD", "TRI-URG-TEXT-ALARM-WORD"):
        assert rules[rule_id].basis and rules[rule_id].sources, rule_id
    assert (rules["TRI-URG-SITE"].version, rules["TRI-URG-PAIN"].version) == (2, 2)
