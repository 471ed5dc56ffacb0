"""Atlas pages: search, one muscle's page, and the pain-drawing sandbox.

Reference content for every staff role (``atlas.view``); nothing here reads or
writes patient data, so nothing is audited and nothing is stored. The sandbox
calls the suggestion API from the browser (``static/atlas/suggest.js``), so the
ranking shown is the one the API and the pure rule give.
"""

from __future__ import annotations

import json
import re

from django.http import Http404
from django.shortcuts import render

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.atlas.catalog import BODY_REGION_LABELS, REGION_LABELS, SIDES, Atlas, Muscle, load_atlas
from triggerpoint.atlas.suggest import SUGGEST_RULE

SEARCH_MAX_QUERY_CHARS = 100
DEFAULT_SIDE = "right"
_URL = re.compile(r"https?://\S+")


def _vocabulary_order(atlas: Atlas, zone_ids) -> list[str]:
    """Zone ids in body-map order (head to foot), the order a clinician reads a chart in."""
    return [zone_id for zone_id in atlas.zones if zone_id in zone_ids]


def _essential_labels(atlas: Atlas, muscle: Muscle) -> list[str]:
    return [atlas.token_label(token) for token in muscle.referral.essential]


def _grouped(atlas: Atlas, muscles) -> list[dict]:
    """Muscles grouped by atlas region in head-to-foot order; the given order is kept inside a group."""
    groups: dict[str, list[dict]] = {region: [] for region in REGION_LABELS}
    for muscle in muscles:
        groups[muscle.region].append(
            {
                "muscle": muscle,
                "essential": _essential_labels(atlas, muscle),
                "spillover": [atlas.token_label(token) for token in muscle.referral.spillover],
            }
        )
    return [
        {"region": region, "label": REGION_LABELS[region], "rows": rows}
        for region, rows in groups.items()
        if rows
    ]


@staff_required("atlas.view")
def index(request):
    atlas = load_atlas()
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_QUERY_CHARS]
    muscles = atlas.search(query) if query else sorted(atlas.muscles.values(), key=lambda m: m.name)
    context = {
        "query": query,
        "groups": _grouped(atlas, muscles),
        "count": len(muscles),
        "total": len(atlas.muscles),
    }
    template = "atlas/_results.html" if request.headers.get("HX-Request") else "atlas/index.html"
    return render(request, template, context)


def _source(text: str) -> dict:
    match = _URL.search(text)
    url = match.group(0) if match else ""
    label = text.replace(url, "").strip(" :–-") if url else text
    return {"label": label or url, "url": url}


@staff_required("atlas.view")
def muscle_detail(request, muscle_id: str):
    atlas = load_atlas()
    if not atlas.has_muscle(muscle_id):
        raise Http404("No such muscle in the atlas.")
    side = request.GET.get("side", DEFAULT_SIDE).lower()
    if side not in SIDES:
        raise Http404("Side must be left or right.")
    muscle = atlas.muscle(muscle_id)
    essential, spillover = atlas.referred_zones(muscle_id, side)
    trigger_zones = atlas.trigger_point_zones(muscle_id, side)
    pattern = {
        "essential": _vocabulary_order(atlas, essential),
        "spillover": _vocabulary_order(atlas, spillover),
        "trigger_points": _vocabulary_order(atlas, trigger_zones),
    }
    context = {
        "muscle": muscle,
        "side": side,
        "sides": SIDES,
        "region_label": REGION_LABELS[muscle.region],
        "body_region_label": BODY_REGION_LABELS[muscle.body_region],
        "essential": [atlas.zones[z].label for z in pattern["essential"]],
        "spillover": [atlas.zones[z].label for z in pattern["spillover"]],
        "trigger_point_labels": [atlas.zones[z].label for z in pattern["trigger_points"]],
        "pattern_json": json.dumps(pattern),
        "safety_notes": [
            {"note": note, "sources": [_source(s) for s in note.sources]} for note in atlas.safety_notes_for(muscle_id)
        ],
        "related": atlas.sharing_essential_zones(muscle_id, side),
        "sources": [_source(s) for s in muscle.sources],
    }
    return render(request, "atlas/muscle.html", context)


@staff_required("atlas.view")
def drawing_sandbox(request):
    return render(request, "atlas/drawing.html", {"rule": SUGGEST_RULE})
