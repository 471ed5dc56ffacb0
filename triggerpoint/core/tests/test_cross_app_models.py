"""Apps read each other's records through selectors and change them through services (issue 15).

An app that imports another app's models can filter its tables with literals and depend on its
internals; the public surface (`selectors`, `services`, signals, ports) is what keeps the apps
replaceable. The kernel's base record (`core.models`) is for everyone. A foreign key names the
other model by string and needs no import.

The debt list this test once carried (42 module -> app pairs when it was written, most of them
reads that needed a selector in the other app) is paid: the test fails on any pair (use or add a
selector instead). The scan itself is tested on a small synthetic package, so an empty result
proves something.
"""

from __future__ import annotations

import ast
from pathlib import Path

import triggerpoint

PACKAGE = Path(triggerpoint.__file__).resolve().parent


def _model_imports(package: Path = PACKAGE) -> set[tuple[str, str]]:
    found = set()
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
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


def test_the_scan_sees_another_apps_models_in_every_import_form(tmp_path):
    """The scan itself, on a small package: it must find these imports, or the tests below prove nothing."""
    app = tmp_path / "billing"
    (app / "tests").mkdir(parents=True)
    (app / "migrations").mkdir()
    (app / "claims.py").write_text(
        "from triggerpoint.patients.models import Patient\n"  # another app's models: found
        "from triggerpoint.billing.models import Claim\n"  # its own models: fine
        "from triggerpoint.core.models import ClinicalRecord\n"  # the kernel's base record: fine
        "from triggerpoint.patients.selectors import portal_patient_of\n",  # a selector: fine
        "utf-8",
    )
    (app / "pages.py").write_text(
        "import triggerpoint.procedures.models\n"
        "from triggerpoint.screening import models as screening_models\n"
        "def later():\n    from triggerpoint.assessment.models import Visit  # inside a function counts too\n",
        "utf-8",
    )
    (app / "tests" / "test_claims.py").write_text("from triggerpoint.patients.models import Patient\n", "utf-8")
    (app / "migrations" / "0001_initial.py").write_text("from triggerpoint.patients.models import Patient\n", "utf-8")
    assert _model_imports(tmp_path) == {
        ("billing.claims", "patients"),
        ("billing.pages", "procedures"),
        ("billing.pages", "screening"),
        ("billing.pages", "assessment"),
    }


def test_no_app_imports_another_apps_models():
    found = sorted(_model_imports())
    assert not found, f"read these through the other app's selectors or services instead: {found}"
