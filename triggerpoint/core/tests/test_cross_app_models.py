"""Apps read each other's records through selectors and change them through services (issue 15).

An app that imports another app's models can filter its tables with literals and depend on its
internals; the public surface (`selectors`, `services`, signals, ports) is what keeps the apps
replaceable. The kernel's base record (`core.models`) is for everyone. A foreign key names the
other model by string and needs no import.

`KNOWN` is the debt as it stands (measured when this test was written: 42 module -> app
pairs, most of them reads that need a selector in the other app). The test fails on a NEW pair (use
or add a selector instead) and on a pair that no longer exists (delete its line, so the list only
shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import triggerpoint

PACKAGE = Path(triggerpoint.__file__).resolve().parent

KNOWN = {
    ("procedures.api", "assessment"),
    ("procedures.api", "screening"),
    ("procedures.drafting", "screening"),
    ("procedures.views", "assessment"),
    ("procedures.views", "screening"),
    ("procedures.worklist", "screening"),
    ("scheduling.patient_messages", "screening"),
    ("shell.audit_log_filters", "audit"),
    ("shell.audit_log_filters", "patients"),
    ("shell.demo_clinic", "accounts"),
    ("shell.demo_clinic", "clinics"),
    ("shell.demo_clinic", "patients"),
    ("shell.sections", "patients"),
    ("shell.views", "patients"),
}


def _model_imports() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if "tests" in rel.parts or "migrations" in rel.parts or rel.name == "conftest.py" or len(rel.parts) < 2:
            continue
        app = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if len(parts) >= 3 and parts[0] == "triggerpoint" and parts[2] == "models" and parts[1] not in (app, "core"):
                    found.add((".".join(rel.with_suffix("").parts), parts[1]))
    return found


def test_no_new_app_reads_another_apps_models():
    found = _model_imports()
    assert len(found) > 10  # the scan sees the imports
    new = sorted(found - KNOWN)
    assert not new, f"read these through the other app's selectors or services instead: {new}"


def test_the_list_of_known_pairs_only_shrinks():
    gone = sorted(KNOWN - _model_imports())
    assert not gone, f"these no longer import another app's models; delete them from KNOWN: {gone}"
