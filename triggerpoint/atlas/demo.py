"""Demo extension for the atlas: nothing to seed, only a check that the atlas is loaded.

The atlas is reference content shipped as data, the same in every clinic, so the
demo adds no rows. It is loaded, schema-checked and cached when Django starts
(``AtlasConfig.ready``); calling ``load_atlas()`` here costs nothing more and makes
a broken atlas fail the demo build loudly instead of the first page that needs it.
"""

from __future__ import annotations

from triggerpoint.atlas.catalog import load_atlas


def extend(ctx) -> None:
    atlas = load_atlas()
    flagged = sum(1 for muscle in atlas.muscles.values() if muscle.pneumothorax_risk)
    ctx.notes.append(
        f"Atlas: {len(atlas.muscles)} muscles over {len(atlas.zones)} body-map zones "
        f"({flagged} flagged for pneumothorax risk), loaded and cached at start-up; nothing seeded. "
        "Try /atlas/drawing/."
    )
