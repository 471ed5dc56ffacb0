"""Specification of the body-map partial: it must draw exactly the zone vocabulary, accessibly.

Pure test: the committed template is parsed with the standard library's HTML parser (no Django),
so a regenerated or hand-edited partial that loses a zone, invents one, or breaks keyboard access fails here.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

ATLAS_DIR = Path(__file__).resolve().parents[1]
BUILDER = ATLAS_DIR.parents[1] / "tools" / "bodymap_build.py"


def _load_builder():
    """The generator is a build tool outside the runtime package; load it from its file."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("bodymap_build", BUILDER)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bodymap_build", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bodymap_build = _load_builder()
PARTIAL = ATLAS_DIR / "templates" / "atlas" / "_bodymap.html"
ZONES_FILE = ATLAS_DIR / "data" / "bodymap-zones.json"
VIEWS = ("front", "back")


class _BodyMapParser(HTMLParser):
    """Collects every element with its attributes, the view it sits in and its <title> text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.regions: list[dict] = []
        self._stack: list[dict] = []
        self._view: list[str | None] = [None]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        view = attributes.get("data-view", self._view[-1])
        element = {"tag": tag, "attrs": attributes, "view": view, "title": ""}
        self.elements.append(element)
        if "data-zone" in attributes:
            self.regions.append(element)
        if tag not in ("input", "br", "img", "meta", "link"):
            self._stack.append(element)
            self._view.append(view)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._stack and self._stack[-1]["tag"] == tag:
            self._stack.pop()
            self._view.pop()

    def handle_endtag(self, tag):
        while self._stack:
            element = self._stack.pop()
            self._view.pop()
            if element["tag"] == tag:
                break

    def handle_data(self, data):
        if (
            len(self._stack) >= 2
            and self._stack[-1]["tag"] == "title"
            and "data-zone" in self._stack[-2]["attrs"]
        ):
            self._stack[-2]["title"] += data


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, dict]:
    return {zone["id"]: zone for zone in json.loads(ZONES_FILE.read_text(encoding="utf-8"))["zones"]}


@pytest.fixture(scope="module")
def parsed() -> _BodyMapParser:
    parser = _BodyMapParser()
    parser.feed(PARTIAL.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _drawn(parsed: _BodyMapParser) -> dict[str, set[str]]:
    views: dict[str, set[str]] = defaultdict(set)
    for region in parsed.regions:
        views[region["attrs"]["data-zone"]].add(region["view"])
    return views


def test_it_draws_every_zone_in_every_view_the_vocabulary_lists(parsed, vocabulary):
    drawn = _drawn(parsed)
    missing = [
        (zone, view)
        for zone, spec in vocabulary.items()
        for view in spec["views"]
        if view not in drawn.get(zone, set())
    ]
    assert missing == []


def test_it_draws_no_zone_in_a_view_the_vocabulary_does_not_list(parsed, vocabulary):
    drawn = _drawn(parsed)
    extra = [
        (zone, view)
        for zone, views in drawn.items()
        if zone in vocabulary
        for view in views - set(vocabulary[zone]["views"])
    ]
    assert extra == []


def test_it_has_no_unknown_zone_ids(parsed, vocabulary):
    unknown = sorted({r["attrs"]["data-zone"] for r in parsed.regions} - set(vocabulary))
    assert unknown == []


def test_each_zone_is_one_region_per_view(parsed):
    counts = Counter((r["view"], r["attrs"]["data-zone"]) for r in parsed.regions)
    assert [key for key, n in counts.items() if n != 1] == []


def test_element_ids_are_unique_and_name_view_and_zone(parsed):
    ids = [e["attrs"]["id"] for e in parsed.elements if "id" in e["attrs"]]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for region in parsed.regions:
        assert region["attrs"]["id"] == f"{region['view']}--{region['attrs']['data-zone']}"


def test_every_region_is_a_focusable_labelled_button(parsed, vocabulary):
    problems = []
    for region in parsed.regions:
        attrs, zone = region["attrs"], region["attrs"]["data-zone"]
        label = vocabulary.get(zone, {}).get("label")
        if region["tag"] not in ("path", "polygon", "ellipse", "circle", "rect"):
            problems.append((zone, "shape", region["tag"]))
        if attrs.get("tabindex") != "0":
            problems.append((zone, "tabindex", attrs.get("tabindex")))
        if attrs.get("role") != "button":
            problems.append((zone, "role", attrs.get("role")))
        if attrs.get("aria-label") != label:
            problems.append((zone, "aria-label", attrs.get("aria-label")))
        if region["title"] != label:
            problems.append((zone, "title", region["title"]))
        if "zone" not in attrs.get("class", "").split():
            problems.append((zone, "class", attrs.get("class")))
        if not attrs.get("d", "").startswith("M"):
            problems.append((zone, "geometry", attrs.get("d", "")[:20]))
    assert problems == []


def test_regions_carry_a_centre_for_trigger_point_markers(parsed):
    lacking = [
        r["attrs"]["id"]
        for r in parsed.regions
        if not all(re.fullmatch(r"-?\d+(\.\d)?", r["attrs"].get(k, "")) for k in ("data-cx", "data-cy"))
    ]
    assert lacking == []


def test_paired_zones_sit_on_the_correct_side_of_each_view(parsed):
    """Front: the patient's left is on the viewer's right (x > 0); back: on the viewer's left (x < 0)."""
    wrong = []
    for region in parsed.regions:
        zone, view = region["attrs"]["data-zone"], region["view"]
        if not zone.endswith(("-l", "-r")):
            continue
        x = float(region["attrs"]["data-cx"])
        patient_left = zone.endswith("-l")
        on_viewer_right = x > 0
        if on_viewer_right != (patient_left if view == "front" else not patient_left):
            wrong.append((view, zone, x))
    assert wrong == []


def test_views_are_labelled_with_the_patients_sides(parsed):
    text = PARTIAL.read_text(encoding="utf-8")
    front = text.index('data-view="front"')
    back = text.index('data-view="back"')
    assert re.search(r"your right</span><strong>Front</strong>.*?your left", text[front:back])
    assert re.search(r"your left</span><strong>Back</strong>.*?your right", text[back:])


def test_it_has_no_inline_script_style_or_event_handler(parsed):
    """The site runs a strict Content-Security-Policy (script-src 'self'; style-src 'self')."""
    offenders = [
        (e["tag"], e["attrs"].get("id"))
        for e in parsed.elements
        if e["tag"] in ("script", "style")
        or "style" in e["attrs"]
        or any(a.startswith("on") for a in e["attrs"])
    ]
    assert offenders == []


def test_the_wrapper_exposes_mode_input_name_and_initial_data():
    text = PARTIAL.read_text(encoding="utf-8")
    for needle in (
        'data-mode="{{ mode }}"',
        'bodymap_mode|default:"draw"',
        "data-input-name=",
        'data-initial="{{ bodymap_initial',
        'data-pattern="{{ bodymap_initial',
        'data-drawing="{{ bodymap_initial',
        'name="{{ bodymap_input_name|default:"pain_drawing" }}"',
    ):
        assert needle in text, needle


def test_the_committed_partial_matches_the_generator(vocabulary):
    """Editing the generated file by hand would be lost on the next build: regenerate instead."""
    assert PARTIAL.read_text(encoding="utf-8") == bodymap_build.render_partial(vocabulary)


def test_the_generator_refuses_a_vocabulary_that_lacks_a_drawn_zone(vocabulary):
    shrunk = {k: v for k, v in vocabulary.items() if k != "temple-l"}
    with pytest.raises(ValueError, match="temple-l"):
        bodymap_build.render_partial(shrunk)


def test_the_generator_refuses_a_zone_it_cannot_draw(vocabulary):
    grown = {
        **vocabulary,
        "nose": {"id": "nose", "label": "Nose", "region": "head", "views": ["front"], "side": "midline"},
    }
    with pytest.raises(ValueError, match="nose"):
        bodymap_build.render_partial(grown)
