"""Every Spanish catalog: complete for what its app marks, compiled from its source, and not overridden by another."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from triggerpoint.core.testing.catalogs import PACKAGE, catalog_dirs, compiled, marked_msgids, po_entries

CATALOGS = catalog_dirs()
IDS = [str(path.relative_to(PACKAGE.parent)) for path in CATALOGS]


def test_the_catalogs_are_found():
    names = {path.name for path in CATALOGS}
    assert {"triggerpoint", "aftercare", "followup", "outcomes"} <= names


@pytest.mark.parametrize("directory", CATALOGS, ids=IDS)
def test_every_marked_string_has_a_spanish_translation(directory):
    served = compiled(directory)
    missing = sorted(m for m in marked_msgids(directory) if not served.get(m))
    assert not missing, f"add to {directory.name}/locale/es/LC_MESSAGES/django.po and recompile (msgfmt): {missing}"


@pytest.mark.parametrize("directory", CATALOGS, ids=IDS)
def test_the_committed_mo_is_compiled_from_the_po(directory):
    assert po_entries(directory) == compiled(directory)


@pytest.mark.parametrize("directory", CATALOGS, ids=IDS)
def test_no_other_catalog_overrides_this_ones_translations(directory):
    """Django merges every catalog; for a msgid in two of them, one wins. They must agree."""
    own = compiled(directory)
    with translation.override("es"):
        assert {msgid: gettext(msgid) for msgid in own} == own


def test_the_scan_finds_templates_python_and_noop_marks():
    followup = next(path for path in CATALOGS if path.name == "followup")
    marked = marked_msgids(followup)
    assert "Send to my care team" in marked and "Call 911 now" in marked  # a template string and a Python one
    assert "This check-in has closed." in marked  # gettext_noop
    assert "Skip to content" in marked_msgids(PACKAGE)
