"""Scoring triage against hand-written check-in cases (``eval/cases.yaml``).

The cases were written from the clinical descriptions, not from the code, so this is the
check that the rules say what a clinician would. Two bars, both from issue 8:

* **zero under-triage**: no case a clinician calls ``emergency`` or ``urgent`` may come
  out lower — a missed page is the failure that hurts patients;
* **at least 90 % exact** overall, so over-triage cannot hide behind the first bar.

The Spanish set (``eval/cases_es.yaml``, issue 14) is scored on its own against the same
bars, and must hold at least as many cases as the English one.

Pure module; ``bench/triage_eval.py`` prints the report and a test asserts the bars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from triggerpoint.followup.triage import (
    DISPOSITIONS,
    EMERGENCY,
    URGENT,
    TriageThresholds,
    parse_triage_request,
    triage,
)

EVAL_DIR = Path(__file__).resolve().parent / "eval"
CASES_FILE = EVAL_DIR / "cases.yaml"
SPANISH_CASES_FILE = EVAL_DIR / "cases_es.yaml"
#: The sets the bench scores separately: (label, file).
CASE_SETS = (("English", CASES_FILE), ("Spanish", SPANISH_CASES_FILE))
MIN_EXACT_ACCURACY = 0.90
MUST_NOT_UNDER_TRIAGE = (EMERGENCY, URGENT)
_RANK = {name: rank for rank, name in enumerate(DISPOSITIONS)}


@dataclass(frozen=True)
class CaseResult:
    id: str
    note: str
    expected: str
    actual: str
    rules: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return self.expected == self.actual

    @property
    def under_triaged(self) -> bool:
        return _RANK[self.actual] < _RANK[self.expected]


@dataclass(frozen=True)
class EvalReport:
    results: tuple[CaseResult, ...]

    @property
    def accuracy(self) -> float:
        return sum(r.exact for r in self.results) / len(self.results)

    @property
    def misses(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.exact)

    @property
    def dangerous_misses(self) -> tuple[CaseResult, ...]:
        """Emergency or urgent cases triaged lower than expected."""
        return tuple(r for r in self.results if r.under_triaged and r.expected in MUST_NOT_UNDER_TRIAGE)

    @property
    def passes(self) -> bool:
        return not self.dangerous_misses and self.accuracy >= MIN_EXACT_ACCURACY

    def confusion(self) -> dict[str, dict[str, int]]:
        """expected -> actual -> count, every disposition present."""
        table = {e: dict.fromkeys(DISPOSITIONS, 0) for e in DISPOSITIONS}
        for result in self.results:
            table[result.expected][result.actual] += 1
        return table


def load_cases(path: Path = CASES_FILE) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema = json.loads((EVAL_DIR / "cases.schema.json").read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(document))
    if errors:
        raise ValueError("; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
    ids = [case["id"] for case in document["cases"]]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate case ids: {duplicates}")
    return document["cases"]


def run_eval(
    cases: list[dict[str, Any]] | None = None,
    *,
    atlas: Any = None,
    thresholds: TriageThresholds | None = None,
) -> EvalReport:
    cases = load_cases() if cases is None else cases
    kwargs = {} if thresholds is None else {"thresholds": thresholds}
    results = []
    for case in cases:
        result = triage(parse_triage_request(case["input"], atlas=atlas, **kwargs), atlas, **kwargs)
        results.append(CaseResult(case["id"], case["note"], case["expected"], result.disposition, result.rule_ids))
    return EvalReport(tuple(results))
