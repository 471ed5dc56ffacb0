"""Score post-injection triage against the hand-written check-in cases, English and Spanish.

Usage:  .venv/bin/python bench/triage_eval.py

For each case set (eval/cases.yaml, eval/cases_es.yaml) prints exact accuracy, the confusion
table by disposition and every miss, and exits non-zero when any emergency/urgent case in
either set is under-triaged, exact accuracy is below 90 % in either set, or the Spanish set
is smaller than the English one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The rules read the clinic's clock (django.utils.timezone), so settings must be configured.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
import django  # noqa: E402

django.setup()

from triggerpoint.followup.evaluation import CASE_SETS, MIN_EXACT_ACCURACY, EvalReport, load_cases, run_eval  # noqa: E402
from triggerpoint.followup.triage import DISPOSITIONS  # noqa: E402


def print_report(label: str, report: EvalReport) -> None:
    total = len(report.results)
    exact = total - len(report.misses)
    print(f"== {label} set: {exact}/{total} exact = {report.accuracy:.1%} (bar {MIN_EXACT_ACCURACY:.0%})")
    width = max(len(d) for d in DISPOSITIONS) + 2
    print("expected \\ actual".ljust(20) + "".join(d.rjust(width) for d in DISPOSITIONS))
    for expected, row in report.confusion().items():
        print(expected.ljust(20) + "".join(str(row[d]).rjust(width) for d in DISPOSITIONS))
    if report.misses:
        print("misses:")
        for miss in report.misses:
            flag = "UNDER-TRIAGE " if miss in report.dangerous_misses else ""
            print(f"  {flag}{miss.id}: expected {miss.expected}, got {miss.actual} "
                  f"[{', '.join(miss.rules)}] — {miss.note}")
    else:
        print("misses: none")
    print(f"{label}: under-triaged emergency/urgent cases: {len(report.dangerous_misses)} (bar 0)")
    print()


def main() -> int:
    ok = True
    sizes = {}
    for label, path in CASE_SETS:
        cases = load_cases(path)
        sizes[label] = len(cases)
        report = run_eval(cases)
        print_report(label, report)
        ok = ok and report.passes
    print("triage eval: " + ", ".join(f"{label} {n} cases" for label, n in sizes.items())
          + f"; Spanish set at least as large as English: {sizes['Spanish'] >= sizes['English']}")
    return 0 if ok and sizes["Spanish"] >= sizes["English"] else 1


if __name__ == "__main__":
    sys.exit(main())
