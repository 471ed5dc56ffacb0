"""Loading clinical content: YAML files checked against their JSON Schema.

Every app keeps its clinical content as data (code tables, dose maxima, symptom
lists, templates) so clinicians and coders can review it without reading
Python; a malformed edit must fail loudly at load time with every problem
named, never steer a result quietly. This is the one loader they all use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: several times faster


class DataFileError(ValueError):
    """A shipped data file breaks its schema or its own consistency rules."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


def schema_problems(document: Any, schema_path: Path, label: str = "") -> list[str]:
    """Every violation of the schema as `<label> <json path>: <message>`, in document order."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    prefix = f"{label} " if label else ""
    return [f"{prefix}{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def load_validated_yaml(path: Path, schema_path: Path, error: type[DataFileError] = DataFileError) -> Any:
    """Read a YAML file and raise `error` naming every schema violation."""
    document = read_yaml(path)
    problems = schema_problems(document, schema_path, path.name)
    if problems:
        raise error(problems)
    return document
