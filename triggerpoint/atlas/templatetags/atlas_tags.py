"""Template helpers for the atlas partials other modules include (heat map, suggestions).

``{% load atlas_tags %}`` gives:
  ``drawing|atlas_drawing_json``   a stored pain drawing (``[{"zone", "intensity"}]``, ``{zone: intensity}``
                                   or a JSON string of either) as the JSON string the body map reads;
  ``drawing|atlas_drawing_rows``   the same drawing as ``[(label, intensity)]``, strongest first (text fallback);
  ``drawing|atlas_suggestions:5``  ATL-SUGGEST candidates for a stored drawing (empty when it marks no pain);
  ``zone_id|atlas_zone_label``     a zone's plain label;
  ``{% atlas_suggest_rule as rule %}``  the rule (id, version, basis) the suggestion list must show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import template

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.atlas.suggest import SUGGEST_RULE, Candidate, suggest
from triggerpoint.core.rules import Rule, RuleInputError

register = template.Library()


def _pairs(drawing: Any) -> list[tuple[str, int]]:
    """(zone, intensity) pairs of a stored drawing in any of the accepted shapes; unknown shapes give []."""
    if isinstance(drawing, (str, bytes)):
        try:
            drawing = json.loads(drawing or "[]")
        except json.JSONDecodeError:
            return []
    if isinstance(drawing, Mapping):
        drawing = [{"zone": zone, "intensity": value} for zone, value in drawing.items()]
    pairs = []
    for row in drawing or ():
        if (
            isinstance(row, Mapping)
            and isinstance(row.get("zone"), str)
            and isinstance(row.get("intensity"), int)
            and not isinstance(row.get("intensity"), bool)
        ):
            pairs.append((row["zone"], row["intensity"]))
    return pairs


@register.filter
def atlas_drawing_json(drawing: Any) -> str:
    return json.dumps([{"zone": zone, "intensity": value} for zone, value in _pairs(drawing)])


@register.filter
def atlas_drawing_rows(drawing: Any) -> list[tuple[str, int]]:
    zones = load_atlas().zones
    rows = [(zones[zone].label, value) for zone, value in _pairs(drawing) if zone in zones]
    return sorted(rows, key=lambda row: -row[1])


@register.filter
def atlas_zone_label(zone_id: str) -> str:
    zone = load_atlas().zones.get(zone_id)
    return zone.label if zone else zone_id


@register.filter
def atlas_suggestions(drawing: Any, limit: int = 5) -> list[Candidate]:
    atlas = load_atlas()
    pairs = {zone: value for zone, value in _pairs(drawing) if zone in atlas.zone_ids}
    if not any(value > 0 for value in pairs.values()):
        return []
    try:
        return suggest(pairs, atlas, limit=int(limit))
    except RuleInputError:
        # A stored drawing that breaks the current rules (e.g. an intensity of 11 from an old
        # import) shows no suggestions rather than breaking the page that includes the list.
        return []


@register.simple_tag
def atlas_suggest_rule() -> Rule:
    return SUGGEST_RULE
