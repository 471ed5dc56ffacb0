"""The chart timeline costs the same number of queries for a patient with one record or many.

Profiling the timeline under load (issue 13) found a query per plan (aftercare's ticked
tasks), one per visit (assessment's amendments) and a prefetch building a queryset per
note and per site (procedures). Each module now reads its rows in a fixed number of
queries; this test fails if a per-row query comes back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from triggerpoint.patients.timeline import entries_for

pytestmark = pytest.mark.django_db


def _records(patient, physician, count: int) -> None:
    from triggerpoint.aftercare.tests.factories import signed_procedure
    from triggerpoint.assessment.tests.factories import ready_visit

    for n in range(count):
        ready_visit(physician, patient)
        signed_procedure(patient, sites=(("masseter", "left"), ("upper_trapezius", "right")),
                         on=timezone.localdate() - timedelta(days=n), by=physician)


def _queries(patient, physician) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as captured:
        entries = entries_for(patient, physician)
    return len(captured.captured_queries), entries


def test_the_timeline_query_count_does_not_grow_with_the_records(physician, patient):
    _records(patient, physician, 1)
    with_one, entries = _queries(patient, physician)
    assert {e.kind for e in entries} >= {"assessment", "procedure", "aftercare"}

    _records(patient, physician, 3)
    with_four, entries = _queries(patient, physician)
    assert with_four == with_one
    procedures = [e for e in entries if e.kind == "procedure"]
    assert len(procedures) == 4
    assert all(e.title.endswith("2 sites") and e.summary.startswith("L ") for e in procedures)
    assert len([e for e in entries if e.kind == "assessment"]) == 4
    assert all("0 task(s) ticked done" in e.summary for e in entries if e.title.startswith("Aftercare plan"))
