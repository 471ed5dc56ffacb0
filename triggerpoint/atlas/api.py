"""Atlas JSON API at /api/v1/atlas/: zones, muscles, and pain drawing → muscles to examine.

The atlas is reference content, not patient data: every staff role may read it
(action ``atlas.view``), portal patients and anonymous callers may not, and no
read is audited. ``POST /suggest`` is the ARCHITECTURE §8 contract
``{"zones": [{"zone", "intensity"}], "limit"}`` → ``{"candidates": [...]}``; it is
a calculator with no stored side effect — the drawing is neither saved nor
audited, because a bare drawing identifies no one and the module that owns the
visit stores the drawing with the patient when it matters.

Requests are parsed here, not by Ninja, so every problem in a drawing is listed
at once by the pure ``validate_drawing`` (422) and a malformed body gets a plain
400 rather than a schema dump. The body is capped before it is read (413).
"""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja import Router, Schema, Status

from triggerpoint.accounts.policy import require
from triggerpoint.atlas.catalog import SIDES, Atlas, Muscle, load_atlas
from triggerpoint.atlas.suggest import DEFAULT_WEIGHTS, SUGGEST_RULE, suggest, validate_drawing

router = Router(tags=["atlas"])

# A full-body drawing (all 147 zones at intensity 10) is about 6 KB of JSON; anything far
# beyond that is not a pain drawing, so it is refused before it is read or parsed.
SUGGEST_MAX_BODY_BYTES = 16 * 1024
SEARCH_MAX_QUERY_CHARS = 100


class ProblemsOut(Schema):
    detail: list[str] | str


class ZoneOut(Schema):
    id: str
    label: str
    region: str
    views: list[str]
    side: str


class MuscleSummaryOut(Schema):
    id: str
    name: str
    region: str
    body_region: str
    pneumothorax_risk: bool
    ultrasound_advised: bool


class StretchOut(Schema):
    id: str
    name: str
    instructions: str


class TriggerPointOut(Schema):
    location: str
    palpation: str


class SidedReferralOut(Schema):
    essential: list[str]
    spillover: list[str]
    trigger_point_zones: list[str]


class MuscleOut(MuscleSummaryOut):
    innervation: str
    needle_depth: str
    hazards: list[str]
    referral_notes: str
    referral: dict[str, SidedReferralOut]
    trigger_points: list[TriggerPointOut]
    activities: list[str]
    stretches: list[StretchOut]
    sources: list[str]


class CandidateOut(Schema):
    muscle: str
    side: str
    name: str
    score: float
    matched_zones: list[str]
    matched_essential: list[str]
    missing_essential: list[str]


class RuleOut(Schema):
    id: str
    version: int
    basis: str


class SuggestOut(Schema):
    candidates: list[CandidateOut]
    zone_labels: dict[str, str]
    rule: RuleOut


SUGGEST_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["zones"],
                "properties": {
                    "zones": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["zone", "intensity"],
                            "properties": {
                                "zone": {"type": "string", "description": "a zone id from GET /atlas/zones"},
                                "intensity": {"type": "integer", "minimum": 0, "maximum": 10},
                            },
                        },
                    },
                    "limit": {"type": "integer", "minimum": 1, "maximum": DEFAULT_WEIGHTS.max_limit,
                              "default": DEFAULT_WEIGHTS.default_limit},
                },
            },
            "example": {"zones": [{"zone": "temple-l", "intensity": 7}, {"zone": "neck-side-l", "intensity": 5}],
                        "limit": 5},
        }
    },
}


def _summary(muscle: Muscle) -> dict:
    return {
        "id": muscle.id,
        "name": muscle.name,
        "region": muscle.region,
        "body_region": muscle.body_region,
        "pneumothorax_risk": muscle.pneumothorax_risk,
        "ultrasound_advised": muscle.ultrasound_advised,
    }


def _detail(atlas: Atlas, muscle: Muscle) -> dict:
    referral = {}
    for side in SIDES:
        essential, spillover = atlas.referred_zones(muscle.id, side)
        referral[side] = {
            "essential": sorted(essential),
            "spillover": sorted(spillover),
            "trigger_point_zones": sorted(atlas.trigger_point_zones(muscle.id, side)),
        }
    return {
        **_summary(muscle),
        "innervation": muscle.innervation,
        "needle_depth": muscle.needle_depth,
        "hazards": list(muscle.hazards),
        "referral_notes": muscle.referral.notes,
        "referral": referral,
        "trigger_points": [{"location": tp.location, "palpation": tp.palpation} for tp in muscle.trigger_points],
        "activities": list(muscle.activities),
        "stretches": [{"id": s.id, "name": s.name, "instructions": s.instructions} for s in muscle.stretches],
        "sources": list(muscle.sources),
    }


@router.get("/zones", response=list[ZoneOut], url_name="atlas_zones")
def atlas_zones(request: HttpRequest):
    """The 147 body-map zone ids (patient's own left/right) with plain labels."""
    require(request.auth, "atlas.view")
    return [
        {"id": z.id, "label": z.label, "region": z.region, "views": list(z.views), "side": z.side}
        for z in load_atlas().zones.values()
    ]


@router.get("/muscles", response={200: list[MuscleSummaryOut], 422: ProblemsOut}, url_name="atlas_muscles")
def atlas_muscles(request: HttpRequest, q: str = ""):
    """Every muscle by name, or those matching `q` by name, region or painful zone (best match first)."""
    require(request.auth, "atlas.view")
    if len(q) > SEARCH_MAX_QUERY_CHARS:
        return Status(422, {"detail": [f"q must be at most {SEARCH_MAX_QUERY_CHARS} characters, got {len(q)}"]})
    atlas = load_atlas()
    muscles = atlas.search(q) if q.strip() else sorted(atlas.muscles.values(), key=lambda m: m.name)
    return [_summary(m) for m in muscles]


@router.get("/muscles/{muscle_id}", response={200: MuscleOut, 404: ProblemsOut}, url_name="atlas_muscle")
def atlas_muscle(request: HttpRequest, muscle_id: str):
    """One muscle: referral per side, trigger points, stretches, injection notes and sources."""
    require(request.auth, "atlas.view")
    atlas = load_atlas()
    if not atlas.has_muscle(muscle_id):
        return Status(404, {"detail": f"No muscle with id {muscle_id!r}; GET /api/v1/atlas/muscles lists them."})
    return _detail(atlas, atlas.muscle(muscle_id))


class _BodyRefused(Exception):
    def __init__(self, status: int, problem: str):
        self.status = status
        self.problem = problem
        super().__init__(problem)


def _read_json_body(request: HttpRequest) -> object:
    """The request's JSON; _BodyRefused 413 (too large) or 400 (not JSON) before anything else is checked."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared_bytes = int(declared)
    except ValueError as exc:
        raise _BodyRefused(400, "Content-Length must be a number of bytes") from exc
    # Checked before reading, so an oversized upload is never buffered or parsed.
    if declared_bytes > SUGGEST_MAX_BODY_BYTES:
        raise _BodyRefused(413, f"request body is {declared_bytes} bytes; the limit is {SUGGEST_MAX_BODY_BYTES}")
    body = request.body
    if len(body) > SUGGEST_MAX_BODY_BYTES:
        raise _BodyRefused(413, f"request body is {len(body)} bytes; the limit is {SUGGEST_MAX_BODY_BYTES}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BodyRefused(400, f"request body is not valid JSON: {exc}") from exc


@router.post(
    "/suggest",
    response={200: SuggestOut, 400: ProblemsOut, 413: ProblemsOut, 422: ProblemsOut},
    url_name="atlas_suggest",
    openapi_extra={"requestBody": SUGGEST_REQUEST_BODY},
)
def atlas_suggest(request: HttpRequest):
    """Rank muscles (each side separately) whose referred pain best explains a pain drawing.

    Best first, each with the zones it matched (`matched_essential` ⊆ `matched_zones`) and the
    essential zones the drawing lacks. Nothing is stored. 400 malformed JSON, 413 body over
    16 KB, 422 every problem in the drawing (unknown zone ids, intensities outside 0–10, an
    empty drawing, more zones than the body map has, a limit outside 1–20).
    """
    require(request.auth, "atlas.view")
    try:
        payload = _read_json_body(request)
    except _BodyRefused as refused:
        return Status(refused.status, {"detail": [refused.problem]})
    atlas = load_atlas()
    if not isinstance(payload, dict):
        return Status(422, {"detail": ["request must be a JSON object with 'zones' and optional 'limit'"]})
    drawing = validate_drawing(payload, atlas)
    candidates = suggest(drawing.zones, atlas, limit=drawing.limit)
    labelled = {zone for c in candidates for zone in (*c.matched_zones, *c.missing_essential)}
    return {
        "candidates": [c.as_dict() for c in candidates],
        "zone_labels": {zone: atlas.zones[zone].label for zone in sorted(labelled)},
        "rule": {"id": SUGGEST_RULE.id, "version": SUGGEST_RULE.version, "basis": SUGGEST_RULE.basis},
    }
