"""Free text may raise a disposition, never lower it (property test)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from triggerpoint.followup.content import load_symptoms
from triggerpoint.followup.temperature import Temperature
from triggerpoint.followup.triage import DISPOSITIONS, TriageInput, triage

RANK = {name: rank for rank, name in enumerate(DISPOSITIONS)}
SYMPTOM_IDS = load_symptoms().ids
PROCEDURE_DAY = date(2025, 3, 3)
PHRASES = ["no fever", "not short of breath", "denies chest pain", "feeling fine", "temp 98.6", "fever 102",
           "no hives", "sore", "asdf", "temp 300", "39C", "no pus, no redness", "but", ",", "cant breathe",
           "not sure", "ice doesnt help", "bruised", "never", "no"]

check_ins = st.builds(
    lambda symptoms, minutes, temp, pain: TriageInput(
        procedure_date=PROCEDURE_DAY,
        reported_at=datetime(2025, 3, 3, 5, 0, tzinfo=UTC) + timedelta(minutes=minutes),
        symptoms=frozenset(symptoms),
        temperature=None if temp is None else Temperature(Decimal(temp) / 10, "F"),
        pain_now=pain,
    ),
    st.sets(st.sampled_from(SYMPTOM_IDS), max_size=4),
    st.integers(min_value=0, max_value=60 * 24 * 20),
    st.one_of(st.none(), st.integers(min_value=932, max_value=1094)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=10)),
)
messages = st.lists(st.sampled_from(PHRASES), min_size=1, max_size=6).map(" ".join) | st.text(max_size=60)


@settings(max_examples=300, deadline=None)
@given(check_ins, messages)
def test_adding_a_message_never_lowers_the_disposition(check_in, message):
    without = triage(check_in)
    with_text = triage(TriageInput(**{**check_in.__dict__, "free_text": message}))
    assert RANK[with_text.disposition] >= RANK[without.disposition]
    # Every reason the form alone produced is still shown ("no warning signs" gives way to any finding).
    assert set(without.rule_ids) - {"TRI-NO-WARNING-SIGNS"} <= set(with_text.rule_ids)
