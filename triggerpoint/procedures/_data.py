"""Loading of the procedures app's clinical data files.

Every YAML table under ``procedures/data`` is validated against its JSON
Schema when loaded, so a malformed edit to a dose or code table fails loudly
at start-up instead of producing a wrong number in a note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_DIR = DATA_DIR / "schemas"


class DataFileError(ValueError):
    """A shipped data file does not match its schema or its own invariants."""


def load_schema(schema_name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))


def load_validated_yaml(file_name: str, schema_name: str) -> dict[str, Any]:
    """Read ``data/<file_name>`` and validate it against ``data/schemas/<schema_name>``.

    Raises `DataFileError` naming every schema violation with its path.
    """
    document = yaml.safe_load((DATA_DIR / file_name).read_text(encoding="utf-8"))
    validator = Draft202012Validator(load_schema(schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
            for error in errors
        )
        raise DataFileError(f"{file_name} does not match {schema_name}: {details}")
    return document
