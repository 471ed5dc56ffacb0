"""The hand-written check-in cases meet issue 8's bars."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from triggerpoint.followup.evaluation import MIN_EXACT_ACCURACY, CaseResult, EvalReport, load_cases, run_eval

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
