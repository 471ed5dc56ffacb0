"""Mutation testing of the clinical rule modules (mutmut), one module at a time.

Why: a test suite can pass while a threshold, a boundary or a guard in a rule is wrong. Mutation testing changes
the rule code one small step at a time (``>`` to ``>=``, a number to another, a guard removed) and counts how many
of those changes the module's tests notice ("killed"). A surviving change is either a missing test or an
equivalent change (one that cannot alter behaviour); docs/MUTATION.md lists the equivalent ones with the reason.

Each module runs in its own staging folder under ``var/mutation/<name>/`` (mutmut copies the project into
``mutants/`` there) with only the fast unit tests that exercise it, and with ONE worker process by default.

    scripts/mutation                 # every module
    scripts/mutation temperature     # one or more modules by name
    scripts/mutation --list          # the modules and their tests
    scripts/mutation --survivors dosing   # also print each surviving mutant's diff
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Target:
    """A rule and the tests that pin it. `sources` are paths or globs: a rule split into modules by noun
    (screening's `rules_*.py`, triage's `triage_*.py`) is mutated as one, against the same tests."""

    name: str
    sources: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def files(self) -> list[str]:
        found: list[str] = []
        for pattern in self.sources:
            matches = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern)) if "*" in pattern else [pattern]
            found.extend(m for m in matches if m not in found)
        return found

    @property
    def source(self) -> str:
        return ", ".join(self.files)


# The rule modules and the fast (no browser, no PDF) tests that pin them. A new pinned-test file goes here.
TARGETS: tuple[Target, ...] = (
    Target(
        "temperature",
        ("triggerpoint/followup/temperature.py",),
        (
            "triggerpoint/followup/tests/test_temperature_pinned.py",
            "triggerpoint/followup/tests/test_triage_rules.py",
            "triggerpoint/followup/tests/test_parse_triage_request.py",
            "triggerpoint/screening/tests/test_today_rules.py",
        ),
    ),
    Target(
        "repeat",
        ("triggerpoint/outcomes/repeat.py",),
        ("triggerpoint/outcomes/tests/test_repeat.py", "triggerpoint/outcomes/tests/test_repeat_pinned.py"),
    ),
    Target(
        "coding",
        ("triggerpoint/procedures/coding.py", "triggerpoint/procedures/code_tables.py",
         "triggerpoint/procedures/drug_codes.py", "triggerpoint/procedures/payer_rules.py"),
        ("triggerpoint/procedures/tests/test_coding.py", "triggerpoint/procedures/tests/test_coding_pinned.py"),
    ),
    Target(
        "dosing",
        ("triggerpoint/procedures/dosing.py", "triggerpoint/procedures/dose_result.py",
         "triggerpoint/procedures/max_doses.py", "triggerpoint/procedures/exposure.py"),
        ("triggerpoint/procedures/tests/test_dosing.py", "triggerpoint/procedures/tests/test_dosing_pinned.py",
         "triggerpoint/procedures/tests/test_exposure.py"),
    ),
    Target(
        "screening",
        ("triggerpoint/screening/rules.py", "triggerpoint/screening/rules_*.py"),
        (
            "triggerpoint/screening/tests/test_today_rules.py",
            "triggerpoint/screening/tests/test_recent_events.py",
            "triggerpoint/screening/tests/test_medication_rules.py",
            "triggerpoint/screening/tests/test_allergy_rules.py",
            "triggerpoint/screening/tests/test_patient_and_plan_rules.py",
            "triggerpoint/screening/tests/test_parsing.py",
            "triggerpoint/screening/tests/test_bleeding_rules.py",
            "triggerpoint/screening/tests/test_toxin_rules.py",
            "triggerpoint/screening/tests/test_rules_pinned.py",
        ),
    ),
    Target(
        "exam",
        ("triggerpoint/assessment/exam.py",),
        ("triggerpoint/assessment/tests/test_exam.py", "triggerpoint/assessment/tests/test_exam_pinned.py"),
    ),
    Target(
        "triage",
        ("triggerpoint/followup/triage.py", "triggerpoint/followup/triage_*.py"),
        (
            "triggerpoint/followup/tests/test_triage_rules.py",
            "triggerpoint/followup/tests/test_parse_triage_request.py",
            "triggerpoint/followup/tests/test_followup_data.py",
            "triggerpoint/followup/tests/test_answers.py",
            "triggerpoint/followup/tests/test_triage_pinned.py",
        ),
    ),
)

# mutmut's own exit-code vocabulary (killed, survived, no tests, timeout, ...).
from mutmut.stats import status_by_exit_code  # noqa: E402


def _existing(paths: tuple[str, ...]) -> list[str]:
    return [path for path in paths if (ROOT / path).exists()]


def _stage(target: Target) -> Path:
    """A folder that looks like the project to mutmut, configured for one module."""
    stage = ROOT / "var" / "mutation" / target.name
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    # A clean copy without __pycache__: mutmut copies the tree as it is, and a compiled copy of the original
    # module next to the mutated source can be picked up instead of it.
    shutil.copytree(ROOT / "triggerpoint", stage / "triggerpoint", ignore=shutil.ignore_patterns("__pycache__"))
    # The copy mutmut makes must exist before mutmut starts: otherwise Python's import cache, built while
    # mutants/ is still empty, misses it and the editable install of the project wins (every mutant then
    # looks untested). mutmut keeps files that already exist there and writes the mutated module over its copy.
    shutil.copytree(stage / "triggerpoint", stage / "mutants" / "triggerpoint")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pytest_options = project["tool"]["pytest"]["ini_options"]
    tests = _existing(target.tests)
    # pytest-django would otherwise walk up from the staged tests, find the project's manage.py and put the
    # unmutated project first on sys.path, so every mutant would "survive" untested.
    pytest_options = dict(pytest_options, django_find_project=False)
    lines = ["[tool.pytest.ini_options]"]
    for key, value in pytest_options.items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += [
        "",
        "[tool.mutmut]",
        'source_paths = ["triggerpoint"]',
        f"only_mutate = {json.dumps(target.files)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-q"]',
    ]
    (stage / "pyproject.toml").write_text("\n".join(lines) + "\n", "utf-8")
    return stage


def _results(stage: Path, target: Target) -> dict[str, str]:
    """Each mutant's status, over every file of the target (mutmut keeps one .meta per mutated file)."""
    statuses: dict[str, str] = {}
    for source in target.files:
        data = json.loads((stage / "mutants" / (source + ".meta")).read_text("utf-8"))
        statuses.update({name: status_by_exit_code[code] for name, code in data["exit_code_by_key"].items()})
    return statuses


def run(target: Target, workers: int, show_survivors: bool) -> tuple[int, int, float, list[str]]:
    stage = _stage(target)
    env = dict(os.environ, TRIGGERPOINT_ENV="test", PYTHONPATH=str(stage / "mutants"))
    env.setdefault("TRIGGERPOINT_VAR_DIR", str(stage / "var"))
    env.pop("DATABASE_URL", None)  # the unit tests of rule modules need no server; SQLite keeps runs independent
    started = time.monotonic()
    log = stage / "mutmut.log"
    with log.open("w") as out:
        subprocess.run(  # noqa: S603 - fixed argv from this script, no shell
            [str(VENV_BIN / "mutmut"), "run", "--max-children", str(workers)],
                       cwd=stage, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    try:
        statuses = _results(stage, target)
    except FileNotFoundError:
        print(f"{target.name}: mutmut did not finish; see {log}", file=sys.stderr)
        print(log.read_text("utf-8")[-3000:], file=sys.stderr)
        return 0, 0, elapsed, []
    killed = sum(1 for status in statuses.values() if status in {"killed", "timeout"})
    survivors = sorted(name for name, status in statuses.items() if status not in {"killed", "timeout"})
    if show_survivors:
        for name in survivors:
            print(f"--- {name}: {statuses[name]}")
            diff = subprocess.run(  # noqa: S603 - fixed argv, the name comes from mutmut itself
                [str(VENV_BIN / "mutmut"), "show", name], cwd=stage, env=env,
                                  capture_output=True, text=True, check=False)
            print(diff.stdout.rstrip())
    return killed, len(statuses), elapsed, [f"{name} ({statuses[name]})" for name in survivors]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="mutmut worker processes (default 1)")
    parser.add_argument("--survivors", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    parser.add_argument("--min-score", type=float, default=90.0, help="exit 1 when a module scores below this")
    args = parser.parse_args()
    by_name = {target.name: target for target in TARGETS}
    if args.list:
        for target in TARGETS:
            print(f"{target.name:12} {target.source}\n{'':12} tests: {', '.join(_existing(target.tests))}")
        return 0
    unknown = [name for name in args.modules if name not in by_name]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    chosen = [by_name[name] for name in args.modules] or list(TARGETS)
    rows = []
    for target in chosen:
        killed, total, elapsed, survivors = run(target, args.workers, args.survivors)
        score = 100.0 * killed / total if total else 0.0
        rows.append((target, killed, total, score, elapsed))
        print(f"{target.name:12} {killed:4d}/{total:<4d} killed  {score:5.1f}%  {elapsed:6.0f} s  {target.source}",
              flush=True)
        for survivor in survivors:
            print(f"{'':14}survived: {survivor}")
    below = [row for row in rows if row[3] < args.min_score]
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
