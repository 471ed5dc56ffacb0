"""Helpers for the follow-up triage tests (pure: no database): a tiny atlas and a check-in builder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakeMuscle:
    id: str
    pneumothorax_risk: bool


class FakeAtlas:
    """Just enough atlas for triage: two muscles, one over the lung."""

    muscles = {
        "upper_trapezius": FakeMuscle("upper_trapezius", True),
        "gluteus_medius": FakeMuscle("gluteus_medius", False),
    }

    def has_muscle(self, muscle_id: str) -> bool:
        return muscle_id in self.muscles

    def muscle(self, muscle_id: str) -> FakeMuscle:
        return self.muscles[muscle_id]


def checkin(**overrides):
    """A valid check-in payload two days after a Monday procedure; override any field."""
    payload = {
        "procedure_date": "2025-03-03",
        "reported_at": "2025-03-05T09:00:00-05:00",
        "symptoms": [],
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not ...}
