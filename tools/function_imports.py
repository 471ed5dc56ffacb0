"""List the imports written inside functions in the runtime package (tests excluded).

Issue 15 asks that every import inside a function is either hoisted or has a reason. This
prints each one with the reason written on the line above or at the end of the line
(a comment), and exits 1 when one has no reason, so `scripts/test` can hold the line.

    .venv/bin/python tools/function_imports.py            # summary and the unexplained ones
    .venv/bin/python tools/function_imports.py --all      # every one, with its reason
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "triggerpoint"


def runtime_modules() -> list[Path]:
    return sorted(
        path for path in PACKAGE.rglob("*.py")
        if "tests" not in path.relative_to(PACKAGE).parts and "migrations" not in path.parts
        and path.name != "conftest.py"
    )


def _reason(lines: list[str], lineno: int) -> str:
    """The comment at the end of the import's line, or above its group of imports (one comment may
    explain several imports written together)."""
    line = lines[lineno - 1]
    if "#" in line and not line.split("#", 1)[1].strip().startswith("noqa"):
        return line.split("#", 1)[1].strip()
    index = lineno - 2
    while index >= 0:
        text = lines[index].strip()
        comment = text.split("#", 1)[1].strip() if "#" in text else ""
        if comment and not comment.startswith("noqa"):
            return comment
        if not text.startswith(("from ", "import ")):
            return ""
        index -= 1
    return ""


def function_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, imported module, reason) for each import nested in a function body."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)):
                module = inner.module if isinstance(inner, ast.ImportFrom) else inner.names[0].name
                found.append((inner.lineno, module or "", _reason(lines, inner.lineno)))
    return sorted(set(found))


def main() -> int:
    show_all = "--all" in sys.argv
    total = unexplained = 0
    for path in runtime_modules():
        for line, module, reason in function_imports(path):
            total += 1
            if not reason:
                unexplained += 1
            if show_all or not reason:
                print(f"{path.relative_to(PACKAGE.parent)}:{line}: {module}  -- {reason or 'NO REASON'}")
    print(f"{total} function-level imports, {unexplained} without a reason")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
