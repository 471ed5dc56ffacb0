"""The clinical hazard log (NHS DCB0129 style): load, validate, cross-check and render it.

One YAML file per hazard in ``docs/hazards/HAZ-*.yaml`` (one file each so that people adding hazards in
parallel never edit the same file). Each hazard names the controls that mitigate it: a clinical rule by its
stable id, or a mechanism in plain words, and the pytest node id of the test that proves the control works.

A hazard log that names a rule or a test that no longer exists is worse than none: it claims a control the
software does not have. So the rule ids are checked against the rules that really exist in code
(:func:`known_rules` discovers them; nobody keeps a list by hand) and the test node ids against the test files
(by parsing them, without running anything). ``triggerpoint hazards`` renders ``docs/HAZARDS.md``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.apps import apps

from triggerpoint.core.rules import Rule

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
HAZARD_DIR = PROJECT_ROOT / "docs" / "hazards"
RENDERED = PROJECT_ROOT / "docs" / "HAZARDS.md"

#: DCB0129 risk matrix scales, least to most.
SEVERITIES = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS = ("very_low", "low", "medium", "high", "very_high")

#: DCB0129's 5 x 5 matrix: risk rating 1 (acceptable) .. 5 (unacceptable) by likelihood (row) and severity.
_RISK_MATRIX = (
    (1, 1, 2, 2, 3),  # very_low
    (1, 2, 2, 3, 4),  # low
    (2, 2, 3, 3, 4),  # medium
    (2, 3, 3, 4, 5),  # high
    (3, 4, 4, 5, 5),  # very_high
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "cause", "effect", "severity", "likelihood_before", "likelihood_after", "controls"],
    "properties": {
        "id": {"type": "string", "pattern": r"^HAZ-[A-Z0-9]+(-[A-Z0-9]+)*$"},
        "title": {"type": "string", "minLength": 1},
        "cause": {"type": "string", "minLength": 1},
        "effect": {"type": "string", "minLength": 1},
        "severity": {"enum": list(SEVERITIES)},
        "likelihood_before": {"enum": list(LIKELIHOODS)},
        "likelihood_after": {"enum": list(LIKELIHOODS)},
        "controls": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["test"],
                "oneOf": [{"required": ["rule"]}, {"required": ["mechanism"]}],
                "properties": {
                    "rule": {"type": "string", "minLength": 1},
                    "mechanism": {"type": "string", "minLength": 1},
                    "test": {"type": "string", "pattern": r"^triggerpoint/[\w/]+\.py::\w+(::\w+)?(\[.*\])?$"},
                },
            },
        },
    },
}


class HazardLogError(ValueError):
    """The hazard log cannot be trusted as written; carries every problem at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Control:
    test: str
    rule: str | None = None
    mechanism: str | None = None


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    cause: str
    effect: str
    severity: str
    likelihood_before: str
    likelihood_after: str
    controls: tuple[Control, ...]
    source: Path

    @property
    def risk_before(self) -> int:
        return risk_rating(self.severity, self.likelihood_before)

    @property
    def risk_after(self) -> int:
        return risk_rating(self.severity, self.likelihood_after)


def risk_rating(severity: str, likelihood: str) -> int:
    return _RISK_MATRIX[LIKELIHOODS.index(likelihood)][SEVERITIES.index(severity)]


# --------------------------------------------------------------------------- loading


def parse_hazard(document: Any, source: Path) -> tuple[Hazard | None, list[str]]:
    """One hazard from its YAML document, or the list of what is wrong with it."""
    where = source.name
    problems = [
        f"{where}: {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=str)
    ]
    if problems:
        return None, problems
    if document["id"] != source.stem:
        return None, [f"{where}: id {document['id']!r} must equal the file name {source.stem!r}"]
    if LIKELIHOODS.index(document["likelihood_after"]) > LIKELIHOODS.index(document["likelihood_before"]):
        return None, [f"{where}: likelihood_after is higher than likelihood_before; a control cannot add risk"]
    controls = tuple(Control(**control) for control in document["controls"])
    fields = {key: document[key] for key in SCHEMA["required"] if key != "controls"}
    return Hazard(controls=controls, source=source, **fields), []


def load_hazards(directory: Path = HAZARD_DIR) -> list[Hazard]:
    """Every hazard file, validated; raises :class:`HazardLogError` listing every problem."""
    hazards: list[Hazard] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        try:
            document = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: not valid YAML: {error}")
            continue
        hazard, found = parse_hazard(document, path)
        problems += found
        if hazard is not None:
            hazards.append(hazard)
    if problems:
        raise HazardLogError(problems)
    return sorted(hazards, key=lambda hazard: hazard.id)


# --------------------------------------------------------------------------- rules that exist in code

_MENTIONS_RULE = re.compile(r"\bRule\(")
_RETURNS_RULES = re.compile(r"\bRule\b")


def _rule_modules() -> Iterator[str]:
    """Non-test modules of the project's installed apps whose source builds a ``Rule``."""
    for app in apps.get_app_configs():
        if not app.name.startswith("triggerpoint."):
            continue
        package = importlib.import_module(app.name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app.name}."):
            parts = info.name.split(".")
            if "tests" in parts or "migrations" in parts or info.ispkg or info.name == __name__:
                continue
            spec = importlib.util.find_spec(info.name)
            if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                continue
            if _MENTIONS_RULE.search(Path(spec.origin).read_text("utf-8")):
                yield info.name


def _rules_in(value: Any) -> Iterator[Rule]:
    if isinstance(value, Rule):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _rules_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _rules_in(item)


def _callable_without_arguments(function: Any) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    return all(
        parameter.default is not inspect.Parameter.empty or parameter.kind in (parameter.VAR_POSITIONAL,
                                                                                 parameter.VAR_KEYWORD)
        for parameter in signature.parameters.values()
    )


def known_rules(modules: Iterable[str] | None = None) -> dict[str, Rule]:
    """Every rule the software can cite, by id.

    Rules live as module globals (``LA_MAX_RULE = Rule(...)``, tables of them) or are built by a function
    from the clinic's thresholds (``triage_rules()``, ``repeat_rules()``). Both are found: the globals of each
    rule module, and what its own functions annotated to return rules give with their default arguments.
    """
    found: dict[str, Rule] = {}
    for name in modules if modules is not None else _rule_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if attribute.startswith("__"):
                continue
            for rule in _rules_in(value):
                found.setdefault(rule.id, rule)
            function = inspect.unwrap(value) if callable(value) else None
            if (
                inspect.isfunction(function)
                and function.__module__ == module.__name__
                and _RETURNS_RULES.search(str(inspect.get_annotations(function).get("return", "")))
                and _callable_without_arguments(value)
            ):
                for rule in _rules_in(value()):
                    found.setdefault(rule.id, rule)
    return found


# --------------------------------------------------------------------------- tests that exist


def test_node_exists(node_id: str, root: Path = PROJECT_ROOT) -> bool:
    """True when ``path::function`` or ``path::Class::method`` is defined in that test file (parsed, not run)."""
    path, _, rest = node_id.partition("::")
    names = re.sub(r"\[.*\]$", "", rest).split("::")
    file = root / path
    if not rest or not file.is_file() or not file.name.startswith("test_"):
        return False
    scope: list[ast.stmt] = ast.parse(file.read_text("utf-8"), filename=str(file)).body
    for depth, name in enumerate(names):
        last = depth == len(names) - 1
        wanted = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        match = next((node for node in scope if isinstance(node, wanted) and node.name == name), None)
        if match is None:
            return False
        scope = match.body if isinstance(match, ast.ClassDef) else []
    return names[-1].startswith("test")


test_node_exists.__test__ = False  # a helper named test_*, not a test


def check_references(hazards: Iterable[Hazard], rules: dict[str, Rule] | None = None) -> list[str]:
    """Every control that names a rule id or a test that does not exist."""
    rules = known_rules() if rules is None else rules
    problems = []
    for hazard in hazards:
        for control in hazard.controls:
            if control.rule is not None and control.rule not in rules:
                problems.append(f"{hazard.id}: rule {control.rule!r} does not exist in code")
            if not test_node_exists(control.test):
                problems.append(f"{hazard.id}: test {control.test!r} does not exist")
    return problems


# --------------------------------------------------------------------------- rendering

_RISK_WORDS = {1: "1 acceptable", 2: "2 acceptable", 3: "3 undesirable", 4: "4 unacceptable", 5: "5 unacceptable"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(hazards: list[Hazard], rules: dict[str, Rule]) -> str:
    """``docs/HAZARDS.md``: a summary table, then each hazard with its controls and their evidence."""
    lines = [
        "# Hazard log",
        "",
        "<!-- Generated from docs/hazards/HAZ-*.yaml by `triggerpoint hazards`; edit the YAML, not this file. -->",
        "",
        "Clinical hazards the software mitigates, in the style of an NHS DCB0129 clinical risk management file.",
        "Each control names the rule (by its stable id, as shown to the clinician) or the mechanism that controls",
        "the hazard, and the test that proves it. A test (`core/tests/test_hazards.py`) fails when a hazard names",
        "a rule id or a test that does not exist, or when this page is out of date.",
        "",
        "Risk rating (DCB0129 5 x 5 matrix of likelihood and severity): 1-2 acceptable, 3 undesirable,",
        "4-5 unacceptable.",
        "",
        "| hazard | title | severity | risk before | risk after |",
        "|---|---|---|---|---|",
    ]
    for hazard in hazards:
        lines.append(
            f"| [{hazard.id}](#{hazard.id.lower()}) | {_cell(hazard.title)} | {hazard.severity} | "
            f"{_RISK_WORDS[hazard.risk_before]} ({hazard.likelihood_before}) | "
            f"{_RISK_WORDS[hazard.risk_after]} ({hazard.likelihood_after}) |"
        )
    for hazard in hazards:
        lines += [
            "",
            f"## {hazard.id}",
            "",
            f"**{_cell(hazard.title)}** (`docs/hazards/{hazard.source.name}`)",
            "",
            f"- Cause: {_cell(hazard.cause)}",
            f"- Effect: {_cell(hazard.effect)}",
            f"- Severity: {hazard.severity}; likelihood {hazard.likelihood_before} without the controls, "
            f"{hazard.likelihood_after} with them (risk {hazard.risk_before} → {hazard.risk_after}).",
            "",
            "| control | what it does | proven by |",
            "|---|---|---|",
        ]
        for control in hazard.controls:
            if control.rule is not None:
                rule = rules.get(control.rule)
                what = _cell(f"{rule.title} (v{rule.version})") if rule else "(rule missing)"
                lines.append(f"| rule `{control.rule}` | {what} | `{control.test}` |")
            else:
                lines.append(f"| mechanism | {_cell(control.mechanism or '')} | `{control.test}` |")
    return "\n".join(lines) + "\n"
