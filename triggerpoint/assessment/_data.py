"""Loading the assessment app's clinical content (YAML) and checking it against its schema.

Code tables, the fibromyalgia body-area map and the history pick-lists are data so a
clinician or coder can review them without reading Python. A malformed edit must
fail loudly at load time (and in the test suite), never steer a result quietly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

DATA_DIR = Path(__file__).resolve().parent / "data"


class AssessmentDataError(DataFileError):
    """A shipped assessment data file breaks its schema or its own consistency rules."""


def read_yaml(filename: str) -> Any:
    return data.read_yaml(DATA_DIR / filename)


def validate_document(document: Any, schema_filename: str, label: str) -> None:
    """Raise AssessmentDataError listing every schema violation in `document`."""
    problems = data.schema_problems(document, DATA_DIR / schema_filename, label)
    if problems:
        raise AssessmentDataError(problems)


def load_document(filename: str, schema_filename: str) -> Any:
    """Read a YAML data file and validate it against its JSON Schema."""
    return data.load_validated_yaml(DATA_DIR / filename, DATA_DIR / schema_filename, AssessmentDataError)
