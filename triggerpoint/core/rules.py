"""Shared vocabulary for clinical rules.

Every clinical decision in the product (screening, dosing, coding, triage,
suggestions, repeat criteria) is a pure function in its app's rule module.
They all describe themselves with the same two types so the UI, the API and
the stored records can show *which* rule said *what*, in which version, and on
what basis — the chart must show what the software said at the time.

No Django, no HTTP, no ORM here: these types are imported by pure modules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """A clinical rule's identity and justification.

    `id` is stable forever (e.g. ``SCR-FEVER-28D``); bump `version` when the
    behaviour changes so stored results stay interpretable.
    """

    id: str
    version: int
    title: str
    basis: str
    sources: tuple[str, ...] = ()

    def basis_text(self) -> str:
        """The basis as shown to the clinician, with its sources."""
        if not self.sources:
            return self.basis
        return f"{self.basis} Sources: {'; '.join(self.sources)}"


@dataclass(frozen=True)
class Finding:
    """One statement a rule made about one case."""

    rule: str
    version: int
    severity: str
    message: str
    basis: str
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rule: Rule, severity: str, message: str, **data: Any) -> Finding:
        return cls(
            rule=rule.id,
            version=rule.version,
            severity=severity,
            message=message,
            basis=rule.basis_text(),
            data=data,
        )

    def as_dict(self) -> dict[str, Any]:
        result = asdict(self)
        if not result["data"]:
            result.pop("data")
        return result


class RuleInputError(ValueError):
    """The facts given to a rule are missing, malformed or unknown.

    Carries every problem at once so a form or an API client can fix them all
    in one round trip. The API layer turns it into a 4xx JSON error; it must
    never become a silent default.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))
