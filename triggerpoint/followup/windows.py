"""The warning-sign windows: how many days after the procedure each group of signs is paged.

One table (``data/warning_windows.yaml``) feeds triage's thresholds *and* every patient text
that names a window — the check-in instructions, the aftercare plan and the "Risks and warning
signs" article — so the number a patient reads and the number triage acts on cannot drift
apart (issue 14). Texts name a window by placeholder: ``{fever_days}``, ``{site_days}``,
``{toxin_weeks}`` in format strings, ``{{window:<id>}}`` / ``{{window_weeks:<id>}}`` in
Markdown articles (whose single braces are left alone).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from triggerpoint.followup.content import FollowupDataError, load_document

FEVER_ALLERGY = "fever_allergy"
LOCAL_INFECTION = "local_infection"
TOXIN_SPREAD = "toxin_spread"
DAYS_PER_WEEK = 7
_ARTICLE_TOKEN = re.compile(r"\{\{(window|window_weeks):([a-z_]+)\}\}")


@dataclass(frozen=True)
class WarningWindow:
    """One window: signs fed to `rules` are acted on from day 0 to day `days` inclusive."""

    id: str
    days: int
    placeholder: str
    rules: tuple[str, ...]
    basis: str
    sources: tuple[str, ...]

    @property
    def placeholder_value(self) -> int:
        """The number a text shows: days, or whole weeks for a ``*_weeks`` placeholder."""
        return self.days // DAYS_PER_WEEK if self.placeholder.endswith("_weeks") else self.days


@dataclass(frozen=True)
class WarningWindows:
    version: int
    windows: tuple[WarningWindow, ...]

    def get(self, window_id: str) -> WarningWindow:
        for window in self.windows:
            if window.id == window_id:
                return window
        raise KeyError(f"unknown warning window {window_id!r}; known: {[w.id for w in self.windows]}")

    def days(self, window_id: str) -> int:
        return self.get(window_id).days

    def placeholders(self) -> dict[str, int]:
        """{"fever_days": 5, "site_days": 14, "toxin_weeks": 12} for str.format texts."""
        return {window.placeholder: window.placeholder_value for window in self.windows}

    def expand_article(self, text: str, origin: str = "<article>") -> str:
        """Replace ``{{window:<id>}}`` (days) and ``{{window_weeks:<id>}}`` (weeks) in Markdown."""

        def replace(match: re.Match[str]) -> str:
            kind, window_id = match.groups()
            try:
                window = self.get(window_id)
            except KeyError as error:
                raise FollowupDataError(f"{origin}: {error.args[0]}") from error
            return str(window.days // DAYS_PER_WEEK if kind == "window_weeks" else window.days)

        return _ARTICLE_TOKEN.sub(replace, text)


def _build(document: dict) -> WarningWindows:
    windows = tuple(
        WarningWindow(
            id=entry["id"], days=entry["days"], placeholder=entry["placeholder"], rules=tuple(entry["rules"]),
            basis=" ".join(entry["basis"].split()), sources=tuple(entry["sources"]),
        )
        for entry in document["windows"]
    )
    problems = []
    ids = [w.id for w in windows]
    for required in (FEVER_ALLERGY, LOCAL_INFECTION, TOXIN_SPREAD):
        if ids.count(required) != 1:
            problems.append(f"warning_windows.yaml: window {required!r} must appear exactly once")
    for window in windows:
        if window.placeholder.endswith("_weeks") and window.days % DAYS_PER_WEEK:
            problems.append(f"warning_windows.yaml {window.id}: {window.days} days is not a whole number of weeks")
    if problems:
        raise FollowupDataError(problems)
    return WarningWindows(version=document["version"], windows=windows)


@functools.cache
def load_windows() -> WarningWindows:
    """The shipped warning-sign windows (cached, schema-validated)."""
    return _build(load_document("warning_windows.yaml", "warning_windows.schema.json"))
