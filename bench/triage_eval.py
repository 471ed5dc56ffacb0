"""Score post-injection triage against the hand-written check-in cases.

Usage:  .venv/bin/python bench/triage_eval.py

Prints exact accuracy, the confusion table by disposition and every miss, and exits
non-zero when any emergency/urgent case is under-triaged or exact accuracy is below 90 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triggerpoint.followup.evaluation import MIN_EXACT_ACCURACY, run_eval  # noqa: E402
from triggerpoint.followup.triage import DISPOSITIONS  # noqa: E402


def main() -> int:
    report = run_eval()
    total = len(report.results)
    exact = total - len(report.misses)
    print(f"triage eval: {exact}/{total} exact = {report.accuracy:.1%} (bar {MIN_EXACT_ACCURACY:.0%})")
    print()
    width = max(len(d) for d in DISPOSITIONS) + 2
    print("expected \\ actual".ljust(20) + "".join(d.rjust(width) for d in DISPOSITIONS))
    for expected, row in report.confusion().items():
        print(expected.ljust(20) + "".join(str(row[d]).rjust(width) for d in DISPOSITIONS))
    print()
    if report.misses:
        print("misses:")
        for miss in report.misses:
            flag = "UNDER-TRIAGE " if miss in report.dangerous_misses else ""
            print(f"  {flag}{miss.id}: expected {miss.expected}, got {miss.actual} "
                  f"[{', '.join(miss.rules)}] — {miss.note}")
    else:
        print("misses: none")
    print(f"under-triaged emergency/urgent cases: {len(report.dangerous_misses)} (bar 0)")
    return 0 if report.passes else 1


if __name__ == "__main__":
    sys.exit(main())
