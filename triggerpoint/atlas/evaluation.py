"""Accuracy of ATL-SUGGEST against published referral patterns (``eval/drawings.yaml``).

Each evaluation case is the classic referral pattern of one muscle, drawn by hand
from the cited description, sometimes with noise. The suggestion rule should put
that muscle, on that side, first (top-1) or at least in its first three (top-3).
Used by ``bench/atlas_eval.py`` and by a test that holds the accuracy bars.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from triggerpoint.atlas.catalog import Atlas
from triggerpoint.atlas.suggest import DEFAULT_WEIGHTS, Candidate, SuggestWeights, suggest

EVAL_FILE = Path(__file__).resolve().parent / "eval" / "drawings.yaml"
TOP1_BAR = 0.60
TOP3_BAR = 0.90


@dataclass(frozen=True)
class EvalCase:
    id: str
    muscle: str
    side: str
    drawing: dict[str, int]
    variation: str
    source: str


@dataclass(frozen=True)
class CaseResult:
    case: EvalCase
    rank: int | None  # 1-based rank of the expected muscle-side, None when not in the top `depth`
    top: tuple[Candidate, ...]


@dataclass(frozen=True)
class EvalReport:
    results: tuple[CaseResult, ...]

    @property
    def top1(self) -> float:
        return sum(1 for r in self.results if r.rank == 1) / len(self.results)

    @property
    def top3(self) -> float:
        return sum(1 for r in self.results if r.rank is not None and r.rank <= 3) / len(self.results)

    @property
    def misses(self) -> tuple[CaseResult, ...]:
        """Cases whose expected muscle-side is not ranked first."""
        return tuple(r for r in self.results if r.rank != 1)

    @property
    def meets_bars(self) -> bool:
        return self.top1 >= TOP1_BAR and self.top3 >= TOP3_BAR


def load_cases(path: Path = EVAL_FILE) -> tuple[EvalCase, ...]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        EvalCase(
            id=row["id"],
            muscle=row["expected"]["muscle"],
            side=row["expected"]["side"],
            drawing=dict(row["drawing"]),
            variation=row.get("variation", ""),
            source=row["source"],
        )
        for row in document["cases"]
    )


def evaluate(
    atlas: Atlas,
    cases: tuple[EvalCase, ...] | None = None,
    weights: SuggestWeights = DEFAULT_WEIGHTS,
    depth: int = 10,
) -> EvalReport:
    results = []
    for case in cases if cases is not None else load_cases():
        top = tuple(suggest(case.drawing, atlas, limit=depth, weights=weights))
        rank = next(
            (index for index, c in enumerate(top, start=1) if (c.muscle, c.side) == (case.muscle, case.side)),
            None,
        )
        results.append(CaseResult(case=case, rank=rank, top=top))
    return EvalReport(results=tuple(results))
