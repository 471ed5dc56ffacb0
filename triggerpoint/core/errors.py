"""Errors that cross layers and have one meaning everywhere (mapped to 4xx by the API and views)."""

from __future__ import annotations


class StaleVersion(Exception):
    """Someone else saved the record since this copy was read (optimistic concurrency)."""

    def __init__(self, model: str, expected: int, current: int | None):
        self.model = model
        self.expected = expected
        self.current = current
        super().__init__(
            f"This {model} was changed by someone else (you edited version {expected}, "
            f"it is now version {current}). Reload it and apply your change again."
        )


class HardDeleteRefused(Exception):
    """Clinical records are never hard-deleted; use soft_delete()."""


class ImmutableRecord(Exception):
    """A signed or append-only record cannot be changed; write an amendment instead."""
