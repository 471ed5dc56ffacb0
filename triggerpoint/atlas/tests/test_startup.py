"""The atlas is loaded once, when Django starts, and the demo build reports it."""

from __future__ import annotations

from types import SimpleNamespace

from django.apps import apps

from triggerpoint.atlas import demo
from triggerpoint.atlas.catalog import load_atlas


def test_the_app_loads_and_caches_the_atlas_when_django_starts():
    load_atlas.cache_clear()
    assert load_atlas.cache_info().currsize == 0
    apps.get_app_config("atlas").ready()
    assert load_atlas.cache_info().currsize == 1
    hits = load_atlas.cache_info().hits
    load_atlas()
    assert load_atlas.cache_info().hits == hits + 1  # later callers share the loaded atlas


def test_the_demo_notes_what_the_atlas_holds_and_seeds_nothing():
    ctx = SimpleNamespace(notes=[])
    demo.extend(ctx)
    atlas = load_atlas()
    assert len(ctx.notes) == 1
    assert f"{len(atlas.muscles)} muscles" in ctx.notes[0]
    assert "147 body-map zones" in ctx.notes[0]
