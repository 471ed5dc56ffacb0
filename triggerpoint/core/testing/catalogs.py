"""Reading the Spanish message catalogs the way Django serves them, for tests.

Each app that translates keeps `locale/es/LC_MESSAGES/django.po` and its compiled
`django.mo` in git (so a fresh machine needs no `msgfmt`). polib reads both.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
from django.utils.translation.template import templatize

PACKAGE = Path(__file__).resolve().parents[2]  # triggerpoint/
_CALL = re.compile(r"""(?:gettext|_)\(u?(?P<q>['"])(?P<s>.*?)(?P=q)\)""")
_MARKERS = {"_", "gettext", "gettext_noop", "gettext_lazy", "pgettext", "ngettext"}


def catalog_dirs() -> list[Path]:
    """Every directory holding a Spanish catalog: the project's (page shell) and each app's."""
    return sorted(path.parents[3] for path in PACKAGE.rglob("locale/es/LC_MESSAGES/django.po"))


def _messages(path: Path) -> Path:
    return path / "locale" / "es" / "LC_MESSAGES"


def po_entries(directory: Path) -> dict[str, str]:
    """msgid -> msgstr as written in django.po (translated entries only)."""
    return {e.msgid: e.msgstr for e in polib.pofile(str(_messages(directory) / "django.po")) if e.msgstr}


def compiled(directory: Path) -> dict[str, str]:
    """msgid -> msgstr as compiled into django.mo (what Django serves)."""
    return {e.msgid: e.msgstr for e in polib.mofile(str(_messages(directory) / "django.mo")) if e.msgid}


def marked_msgids(directory: Path) -> set[str]:
    """Every string marked for translation in the templates and Python modules under `directory`."""
    found: set[str] = set()
    templates = directory.rglob("templates/**/*.html") if directory != PACKAGE else (PACKAGE / "templates").glob("*.html")
    for path in templates:
        found.update(m.group("s").replace("\\'", "'") for m in _CALL.finditer(templatize(path.read_text())))
    modules = directory.glob("*.py") if directory != PACKAGE else ()
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in _MARKERS and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return found
