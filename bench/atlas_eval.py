"""Accuracy and speed of ATL-SUGGEST on the evaluation drawings.

Run from the repo root:  .venv/bin/python bench/atlas_eval.py

Prints top-1 / top-3 accuracy against ``triggerpoint/atlas/eval/drawings.yaml`` (bars:
top-3 >= 90 %, top-1 >= 60 %), lists every case whose expected muscle is not first,
and times the scorer against a baseline run side by side in the same process (interleaved,
drawing by drawing): a plain loop that only counts zone overlaps over the whole atlas. Exits non-zero when an
accuracy bar or the 2 ms median bar is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triggerpoint.atlas.catalog import Atlas, load_atlas  # noqa: E402
from triggerpoint.atlas.evaluation import TOP1_BAR, TOP3_BAR, evaluate, load_cases  # noqa: E402
from triggerpoint.atlas.suggest import suggest  # noqa: E402

MEDIAN_BAR_SECONDS = 0.002


def overlap_baseline(drawing: Mapping[str, int], atlas: Atlas) -> int:
    """The least work any scorer must do: sum zone overlaps over every muscle-side."""
    painful = {zone for zone, intensity in drawing.items() if intensity > 0}
    total = 0
    for pattern in atlas.patterns:
        total += len(pattern.essential & painful) + len(pattern.spillover & painful)
    return total


def paired_samples(
    scorer: Callable[[Mapping[str, int], Atlas], object],
    baseline: Callable[[Mapping[str, int], Atlas], object],
    drawings: list[dict[str, int]],
    atlas: Atlas,
    rounds: int,
    inner: int,
) -> tuple[list[float], list[float]]:
    """Per-call seconds for both functions, timed back to back on the same drawing.

    Interleaving matters on a shared machine: timing one function for a whole block and the
    other afterwards lets a burst of load from elsewhere land on one side only and skews the ratio.
    """
    scorer_samples, baseline_samples = [], []
    for _ in range(rounds):
        for drawing in drawings:
            for function, samples in ((scorer, scorer_samples), (baseline, baseline_samples)):
                start = time.perf_counter()
                for _ in range(inner):
                    function(drawing, atlas)
                samples.append((time.perf_counter() - start) / inner)
    return scorer_samples, baseline_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per drawing")
    parser.add_argument("--inner", type=int, default=50, help="calls per timed round")
    args = parser.parse_args(argv)

    atlas = load_atlas()
    cases = load_cases()
    report = evaluate(atlas, cases)
    print(
        f"atlas: {len(atlas.muscles)} muscles × 2 sides, {len(atlas.zones)} zones; eval cases: {len(cases)}"
    )
    print(f"top-1 accuracy: {report.top1:6.1%}  (bar {TOP1_BAR:.0%})")
    print(f"top-3 accuracy: {report.top3:6.1%}  (bar {TOP3_BAR:.0%})")
    if report.misses:
        print("not ranked first:")
        for result in report.misses:
            rank = "not in top 10" if result.rank is None else f"rank {result.rank}"
            leaders = ", ".join(f"{c.muscle}/{c.side} {c.score:.2f}" for c in result.top[:3])
            print(
                f"  {result.case.id}: expected {result.case.muscle}/{result.case.side} {rank}; top: {leaders}"
            )

    drawings = [case.drawing for case in cases]
    for drawing in drawings:  # warm caches so neither side pays first-call costs
        suggest(drawing, atlas)
        overlap_baseline(drawing, atlas)
    scorer_samples, baseline_samples = paired_samples(
        lambda d, a: suggest(d, a), overlap_baseline, drawings, atlas, args.rounds, args.inner
    )
    scorer = statistics.median(scorer_samples)
    baseline = statistics.median(baseline_samples)
    paired_ratio = statistics.median(s / b for s, b in zip(scorer_samples, baseline_samples, strict=True))
    print(
        f"median per suggestion: {scorer * 1e6:8.1f} µs   overlap-only baseline: {baseline * 1e6:8.1f} µs   "
        f"ratio {scorer / baseline:.2f}× (median of paired ratios {paired_ratio:.2f}×)   "
        f"(bar {MEDIAN_BAR_SECONDS * 1e3:.0f} ms)"
    )

    failures = []
    if not report.meets_bars:
        failures.append("accuracy below the bar")
    if scorer >= MEDIAN_BAR_SECONDS:
        failures.append("median suggestion time at or above 2 ms")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("OK: all bars met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
