"""The hand-written check-in cases meet issue 8's bars."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from triggerpoint.followup.evaluation import (
    MIN_EXACT_ACCURACY,
    SPANISH_CASES_FILE,
    CaseResult,
    EvalReport,
    load_cases,
    run_eval,
)

REPO = Path(__file__).resolve().parents[3]


def test_there_are_at_least_60_cases_covering_every_disposition_text_and_units():
    cases = load_cases()
    assert len(cases) >= 60
    assert {case["expected"] for case in cases} == {"emergency", "urgent", "routine", "self_care"}
    assert sum(bool(case["input"].get("free_text")) for case in cases) >= 20
    units = {case["input"]["temperature"]["unit"] for case in cases if case["input"].get("temperature")}
    assert units == {"F", "C"}


def test_no_emergency_or_urgent_case_is_under_triaged_and_at_least_90_percent_are_exact():
    report = run_eval()
    assert report.dangerous_misses == ()
    assert report.accuracy >= MIN_EXACT_ACCURACY


def test_the_report_counts_an_under_triaged_urgent_case_as_dangerous():
    report = EvalReport((CaseResult("a", "n", "urgent", "routine", ()), CaseResult("b", "n", "routine", "urgent", ())))
    assert [miss.id for miss in report.dangerous_misses] == ["a"]
    assert report.accuracy == 0.0
    assert not report.passes


def test_the_bench_script_prints_the_report_and_exits_zero_when_the_bars_are_met():
    completed = subprocess.run(
        [sys.executable, "bench/triage_eval.py"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "exact" in completed.stdout and "under-triaged" in completed.stdout
    assert "== English set" in completed.stdout and "== Spanish set" in completed.stdout
    assert "Spanish: under-triaged emergency/urgent cases: 0" in completed.stdout


def test_the_spanish_set_is_at_least_as_large_and_never_under_triaged():
    english, spanish = load_cases(), load_cases(SPANISH_CASES_FILE)
    assert len(spanish) >= len(english)
    assert all(case["input"].get("free_text") for case in spanish)
    assert {case["expected"] for case in spanish} == {"emergency", "urgent", "routine", "self_care"}
    report = run_eval(spanish)
    assert report.dangerous_misses == ()
    assert report.accuracy >= MIN_EXACT_ACCURACY


def _rules_fired(cases):
    return {rule for result in run_eval(cases).results for rule in result.rules}


def test_each_issue_14_rule_is_exercised_by_both_evaluation_sets():
    new_rules = {"TRI-URG-SITE", "TRI-TOXIN-SPREAD", "TRI-EMERG-TEXT-ALARM-WORD"}
    assert new_rules | {"TRI-URG-NEURO-SIGN"} <= _rules_fired(load_cases())
    assert new_rules <= _rules_fired(load_cases(SPANISH_CASES_FILE))
    late_site = [c for c in load_cases() if c["id"] in ("urg-discharge-day7", "urg-redness-day14-boundary",
                                                         "rout-redness-day15-boundary")]
    assert [c["expected"] for c in late_site] == ["urgent", "urgent", "routine"]
