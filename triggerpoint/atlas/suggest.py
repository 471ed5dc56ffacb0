"""Pain drawing → which muscles on which side may be referring the pain (rule ATL-SUGGEST).

A patient's pain drawing marks body-map zones with an intensity from 0 to 10.
Myofascial trigger points refer pain in stable, published patterns (Travell &
Simons), so the muscles whose pattern best covers the drawing are the ones worth
examining first. This module ranks every muscle on each side by how well its
essential and spillover zones match the painful zones, explains each candidate
with the zones it matched and the essential zones the drawing lacks, and leaves
the diagnosis to the clinician's palpation: it is a hint for the examination,
never a finding.

Scoring (all weights in `SuggestWeights`):
  each painful zone in the muscle's essential pattern adds ``essential × f(i)``,
  each one in its spillover pattern adds ``spillover × f(i)``, where
  ``f(i) = intensity_floor + (1 − intensity_floor) × i / intensity_max``;
  each essential zone missing from the drawing subtracts
  ``missing_essential_penalty / |essential|`` (so the full penalty is the same for
  small and large patterns). Zones drawn with intensity 0 mean "looked at, no pain"
  and are ignored.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triggerpoint.atlas.catalog import Atlas, SidedPattern
from triggerpoint.core.rules import Rule, RuleInputError

SUGGEST_RULE = Rule(
    id="ATL-SUGGEST",
    version=1,
    title="Muscles whose trigger points may refer the drawn pain",
    basis=(
        "Ranks each muscle, on each side, by how much of the drawn pain falls in its published referred-pain "
        "pattern: zones where that muscle's pain is usually felt (essential) count more than zones it sometimes "
        "spreads to (spillover), stronger pain counts more, and muscles whose usual zones are not drawn are "
        "ranked lower. A suggestion for where to examine, not a diagnosis: confirm by palpating a taut band "
        "that reproduces the patient's pain."
    ),
    sources=(
        "Simons, Travell & Simons. Myofascial Pain and Dysfunction: The Trigger Point Manual, 2nd ed., Vol. 1 (1999)",
        "Travell & Simons. Myofascial Pain and Dysfunction: The Trigger Point Manual, Vol. 2 (1992)",
    ),
)


@dataclass(frozen=True)
class SuggestWeights:
    """Every threshold and weight ATL-SUGGEST uses; pass another instance to override."""

    essential: float = 1.0
    spillover: float = 0.5
    intensity_floor: float = 0.5  # a faint but painful zone still counts half
    missing_essential_penalty: float = 0.6  # total, spread over the muscle's essential zones
    min_score: float = 0.0  # candidates must score strictly above this
    intensity_min: int = 0
    intensity_max: int = 10
    default_limit: int = 5
    max_limit: int = 20


DEFAULT_WEIGHTS = SuggestWeights()


@dataclass(frozen=True)
class Candidate:
    """One muscle on one side, with why it was suggested."""

    muscle: str
    side: str
    name: str
    score: float
    matched_zones: tuple[str, ...]  # essential matches first, then spillover, each sorted
    missing_essential: tuple[str, ...]
    matched_essential: tuple[str, ...] = ()  # the part of matched_zones that is in the essential pattern

    def as_dict(self) -> dict[str, Any]:
        return {
            "muscle": self.muscle,
            "side": self.side,
            "name": self.name,
            "score": self.score,
            "matched_zones": list(self.matched_zones),
            "matched_essential": list(self.matched_essential),
            "missing_essential": list(self.missing_essential),
        }


@dataclass(frozen=True)
class DrawingRequest:
    """A validated suggestion request: painful and pain-free zones with intensities, and a limit."""

    zones: Mapping[str, int]
    limit: int


def _is_int(value: object) -> bool:
    # bool is an int subclass; True is not an intensity.
    return isinstance(value, int) and not isinstance(value, bool)


def _intensity_problems(zone: object, intensity: object, weights: SuggestWeights) -> list[str]:
    if not _is_int(intensity):
        return [f"zone {zone!r}: intensity must be a whole number, got {intensity!r}"]
    if not weights.intensity_min <= intensity <= weights.intensity_max:  # type: ignore[operator]
        return [
            f"zone {zone!r}: intensity {intensity} is outside {weights.intensity_min}–{weights.intensity_max}"
        ]
    return []


def _unknown_zone_problem(unknown: list[str], atlas: Atlas) -> list[str]:
    if not unknown:
        return []
    return [
        f"unknown zone id(s): {', '.join(sorted(unknown))}; allowed values: {', '.join(sorted(atlas.zone_ids))}"
    ]


def validate_drawing(
    payload: Mapping[str, Any], atlas: Atlas, weights: SuggestWeights = DEFAULT_WEIGHTS
) -> DrawingRequest:
    """Check an API-shaped request ``{"zones": [{"zone", "intensity"}], "limit"}``.

    Raises RuleInputError listing every problem: unknown zone ids (with the allowed
    values), intensities that are not whole numbers in range, duplicate zones, an
    empty drawing or one with no pain at all, more zones than the body map has, and
    a limit outside 1..max_limit.
    """
    problems: list[str] = []
    if not isinstance(payload, Mapping):
        raise RuleInputError(["request must be an object with 'zones' and optional 'limit'"])
    limit = payload.get("limit", weights.default_limit)
    if not _is_int(limit) or not 1 <= limit <= weights.max_limit:
        problems.append(f"limit must be a whole number from 1 to {weights.max_limit}, got {limit!r}")
    rows = payload.get("zones")
    zones: dict[str, int] = {}
    if rows is None:
        problems.append("zones is required")
    elif not isinstance(rows, list):
        problems.append("zones must be a list of {zone, intensity} objects")
    elif not rows:
        problems.append("the drawing is empty: mark at least one zone")
    elif len(rows) > len(atlas.zone_ids):
        problems.append(f"too many zones: {len(rows)} given, the body map has {len(atlas.zone_ids)}")
    else:
        unknown: list[str] = []
        duplicates: list[str] = []
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping) or "zone" not in row or "intensity" not in row:
                problems.append(f"zones[{index}] must have 'zone' and 'intensity'")
                continue
            zone, intensity = row["zone"], row["intensity"]
            if not isinstance(zone, str) or zone not in atlas.zone_ids:
                unknown.append(str(zone))
            elif zone in zones:
                duplicates.append(zone)
            problems.extend(_intensity_problems(zone, intensity, weights))
            if isinstance(zone, str) and _is_int(intensity):
                zones.setdefault(zone, intensity)
        problems.extend(_unknown_zone_problem(unknown, atlas))
        if duplicates:
            problems.append(f"zone(s) drawn more than once: {', '.join(sorted(set(duplicates)))}")
        if not problems and not any(value > weights.intensity_min for value in zones.values()):
            problems.append("the drawing marks no pain: every intensity is 0")
    if problems:
        raise RuleInputError(problems)
    return DrawingRequest(zones=zones, limit=limit)


def _check_drawing(drawing: Mapping[str, int], atlas: Atlas, limit: int, weights: SuggestWeights) -> None:
    problems: list[str] = []
    problems.extend(_unknown_zone_problem([zone for zone in drawing if zone not in atlas.zone_ids], atlas))
    for zone, intensity in drawing.items():
        problems.extend(_intensity_problems(zone, intensity, weights))
    if not _is_int(limit) or not 1 <= limit <= weights.max_limit:
        problems.append(f"limit must be a whole number from 1 to {weights.max_limit}, got {limit!r}")
    if problems:
        raise RuleInputError(problems)


def _painful_weights(drawing: Mapping[str, int], weights: SuggestWeights) -> dict[str, float]:
    """f(i) for each painful zone; zones at the minimum intensity (drawn, no pain) drop out."""
    span = weights.intensity_max - weights.intensity_min
    return {
        zone: weights.intensity_floor
        + (1.0 - weights.intensity_floor) * (intensity - weights.intensity_min) / span
        for zone, intensity in drawing.items()
        if intensity > weights.intensity_min
    }


def _score(
    pattern: SidedPattern, painful: Mapping[str, float], weights: SuggestWeights
) -> tuple[float, frozenset[str], frozenset[str]]:
    matched_essential = pattern.essential & painful.keys()
    matched_spillover = pattern.spillover & painful.keys()
    missing_count = len(pattern.essential) - len(matched_essential)
    score = (
        weights.essential * sum(painful[zone] for zone in matched_essential)
        + weights.spillover * sum(painful[zone] for zone in matched_spillover)
        - weights.missing_essential_penalty * missing_count / len(pattern.essential)
    )
    # Rounded so float noise cannot reorder equal scores; ties then fall to id and side.
    return round(score, 6), matched_essential, matched_spillover


def muscle_score(
    drawing: Mapping[str, int],
    atlas: Atlas,
    muscle_id: str,
    side: str,
    weights: SuggestWeights = DEFAULT_WEIGHTS,
) -> float:
    """ATL-SUGGEST's score for one muscle on one side, even when it would not be listed."""
    _check_drawing(drawing, atlas, weights.default_limit, weights)
    atlas.referred_zones(muscle_id, side)  # KeyError / ValueError for an unknown muscle or side
    pattern = atlas.pattern(muscle_id, side)
    return _score(pattern, _painful_weights(drawing, weights), weights)[0]


def _ranked(painful: Mapping[str, float], atlas: Atlas, weights: SuggestWeights) -> list[tuple]:
    rows = []
    painful_zones = painful.keys()
    for pattern in atlas.patterns:
        if pattern.all_zones.isdisjoint(painful_zones):
            continue
        score, matched_essential, matched_spillover = _score(pattern, painful, weights)
        if score > weights.min_score:
            rows.append(
                (-score, pattern.muscle_id, pattern.side, pattern, matched_essential, matched_spillover)
            )
    rows.sort(key=lambda row: row[:3])
    return rows


def _candidate(row: tuple, atlas: Atlas) -> Candidate:
    negative_score, muscle_id, side, pattern, matched_essential, matched_spillover = row
    return Candidate(
        muscle=muscle_id,
        side=side,
        name=atlas.muscles[muscle_id].name,
        score=-negative_score,
        matched_zones=tuple(sorted(matched_essential)) + tuple(sorted(matched_spillover)),
        missing_essential=tuple(sorted(pattern.essential - matched_essential)),
        matched_essential=tuple(sorted(matched_essential)),
    )


def rank(
    drawing: Mapping[str, int], atlas: Atlas, weights: SuggestWeights = DEFAULT_WEIGHTS
) -> list[Candidate]:
    """Every muscle-side that matches a painful zone and scores above `min_score`, best first.

    Deterministic: ties are broken by muscle id, then side (left before right).
    Raises RuleInputError for unknown zones or bad intensities.
    """
    _check_drawing(drawing, atlas, weights.default_limit, weights)
    return [_candidate(row, atlas) for row in _ranked(_painful_weights(drawing, weights), atlas, weights)]


def suggest(
    drawing: Mapping[str, int],
    atlas: Atlas,
    limit: int = DEFAULT_WEIGHTS.default_limit,
    weights: SuggestWeights = DEFAULT_WEIGHTS,
) -> list[Candidate]:
    """The `limit` best muscle-side candidates for a drawing ``{zone_id: intensity}``, best first.

    Deterministic: ties are broken by muscle id, then side (left before right).
    Raises RuleInputError for unknown zones, bad intensities or a limit outside 1..max_limit.
    """
    _check_drawing(drawing, atlas, limit, weights)
    rows = _ranked(_painful_weights(drawing, weights), atlas, weights)
    return [_candidate(row, atlas) for row in rows[:limit]]
