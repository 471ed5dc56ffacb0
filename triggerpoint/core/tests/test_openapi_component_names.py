"""Two request/response models with one class name would share one name in /api/v1/openapi.json.

Ninja keeps only one of them under `components.schemas`, so the other operation silently documents
the wrong body (screening's `PatientIn` once replaced the patients API's `PatientIn`). Model class
names are therefore unique across the package.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]
MODEL_BASES = {"Schema", "Contract", "BaseModel", "ModelSchema"}


def _model_classes() -> dict[str, list[str]]:
    """Class name -> where it is defined, for classes deriving (directly or via a local base) from a model base."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local_models = set(MODEL_BASES)
        for node in tree.body:  # module order: a local base is defined before its subclasses
            if isinstance(node, ast.ClassDef):
                bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
                if bases & local_models:
                    local_models.add(node.name)
                    if not node.name.startswith("_"):
                        found[node.name].append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_no_two_api_models_share_a_class_name():
    found = _model_classes()
    assert len(found) > 30, "the scan found too few models; has the base class changed?"
    # ProblemsOut only declares error answers, which core/api_errors.py documents as the one ApiError shape.
    shared = {name: places for name, places in found.items() if len(places) > 1 and name != "ProblemsOut"}
    assert not shared, f"rename so each model has its own OpenAPI component name: {shared}"


def test_the_patients_api_documents_its_own_patient_body(client):
    body = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["PatientIn"]
    assert "mrn" in body["properties"] and "date_of_birth" in body["properties"]
