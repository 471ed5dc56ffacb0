"""Links on a procedure note's page to what followed the note in other apps (its aftercare plan, its check-ins).

The procedures app is below aftercare and follow-up (pyproject layers), so it cannot ask them;
each of them may provide ``triggerpoint.<app>.note_links.links(procedure, user)`` returning
`NoteLink` items (core.plugins), and the note page lists them. An app that shows nothing to
this user returns an empty list; it checks its own permissions.
"""

from __future__ import annotations

from dataclasses import dataclass

from triggerpoint.core import plugins


@dataclass(frozen=True)
class NoteLink:
    label: str
    url: str
    detail: str = ""
    status: str = ""  # e.g. "missing": shown as a warning


def links_for(procedure, user) -> list[NoteLink]:
    """Every installed app's links for this note, in INSTALLED_APPS order."""
    found: list[NoteLink] = []
    for module in plugins.modules("note_links"):
        found.extend(module.links(procedure, user))
    return found
