"""The response shape of a rule's finding (`core.rules.Finding.as_dict`), for the calculators' OpenAPI schemas.

One place, so every calculator that answers with findings documents them alike. `data` is
absent when the finding carries none (as `as_dict` leaves it out); operations that answer
with these declare ``exclude_unset=True`` so an absent key stays absent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class RuleFindingOut(BaseModel):
    """One statement a rule made about the case: which rule (id and version), how severe, why."""

    rule: str
    version: int
    severity: str
    message: str
    basis: str
    data: dict[str, Any] | None = None


class RuleRefOut(BaseModel):
    """A rule that was applied, by id and version."""

    rule: str
    version: int
