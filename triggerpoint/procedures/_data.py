"""Loading of the procedures app's clinical data files (dose maxima, code tables, payers, drugs).

Each YAML table under ``procedures/data`` is validated against its JSON Schema when loaded
(through the shared `core.data` loader), so a malformed edit to a dose or code table fails
loudly at start-up instead of producing a wrong number in a note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

__all__ = ["DATA_DIR", "DataFileError", "load_schema", "load_validated_yaml"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_DIR = DATA_DIR / "schemas"


def load_validated_yaml(file_name: str, schema_name: str) -> dict[str, Any]:
    """Read ``data/<file_name>`` and validate it against ``data/schemas/<schema_name>``."""
    return data.load_validated_yaml(DATA_DIR / file_name, SCHEMA_DIR / schema_name)


def load_schema(schema_name: str) -> dict[str, Any]:
    """A schema by name (tests validate hand-made documents against it)."""
    return json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))
