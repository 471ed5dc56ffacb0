"""Loading the assessment app's clinical content (YAML) and checking it against its schema.

Code tables, the fibromyalgia body-area map and the history pick-lists are data so a
clinician or coder can review them without reading Python. A malformed edit must
fail loudly at load time (and in the test suite), never steer a result quietly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

DATA_DIR = Path(__file__).resolve().parent / "data"


class AssessmentDataError(ValueError):
    """A shipped data file breaks its schema or its own consistency rules."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def read_yaml(filename: str) -> Any:
    text = (DATA_DIR / filename).read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader


def validate_document(document: Any, schema_filename: str, label: str) -> None:
    """Raise AssessmentDataError listing every schema violation in `document`."""
    schema = json.loads((DATA_DIR / schema_filename).read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    if errors:
        raise AssessmentDataError(
            [
                f"{label} {'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
                for error in errors
            ]
        )


def load_document(filename: str, schema_filename: str) -> Any:
    """Read a YAML data file and validate it against its JSON Schema."""
    document = read_yaml(filename)
    validate_document(document, schema_filename, filename)
    return document
