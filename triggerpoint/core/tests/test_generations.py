from __future__ import annotations

from django.core.cache import cache

from triggerpoint.core import generations


def test_a_value_is_served_while_its_token_is_current(db):
    value, token = generations.read("k", "thing")
    assert value is None and token == generations.INITIAL
    generations.write("k", token, {"answer": 42}, 60)
    assert generations.read("k", "thing") == ({"answer": 42}, token)


def test_renewing_the_token_retires_what_was_cached(db):
    _, token = generations.read("k", "thing")
    generations.write("k", token, "old", 60)
    generations.renew(["thing"])
    value, new_token = generations.read("k", "thing")
    assert value is None and new_token != token


def test_a_value_computed_before_a_renewal_but_stored_after_is_not_served(db):
    _, token = generations.read("k", "thing")  # a reader starts from the old rows...
    generations.renew(["thing"])  # ...a writer changes them and renews...
    generations.write("k", token, "computed from old rows", 60)  # ...the reader stores late
    assert generations.read("k", "thing")[0] is None


def test_two_renewals_never_produce_the_same_token(db):
    seen = set()
    for _ in range(50):
        generations.renew(["thing"])
        seen.add(generations.read("k", "thing")[1])
    assert len(seen) == 50


def test_an_entry_written_by_other_code_is_ignored(db):
    cache.set("k", "not a stamped value", 60)
    assert generations.read("k", "thing")[0] is None
