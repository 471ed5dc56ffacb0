"""In a real browser: tap three zones, watch the suggestions follow, open a muscle page (screenshots)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.atlas.suggest import suggest
from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATLAS = load_atlas()
DEFAULT_INTENSITY = 5  # what bodymap.js gives a freshly tapped zone
CANDIDATES = "[data-atlas-candidates] [data-atlas-candidate]"
# htmx (loaded by base.html on every page) injects its indicator <style> unless
# htmx.config.includeIndicatorStyles is false; the strict CSP blocks it. That one message is
# the shell's, not the atlas's, so it is the only console error these tests tolerate.
HTMX_INDICATOR_STYLE_HASH = "sha256-faU7yAF8N"


def _collect_errors(pg) -> list[str]:
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on(
        "console",
        lambda msg: errors.append(msg.text)
        if msg.type == "error" and HTMX_INDICATOR_STYLE_HASH not in msg.text
        else None,
    )
    return errors


def _listed(pg) -> list[tuple[str, str]]:
    return [
        (node.get_attribute("data-muscle"), node.get_attribute("data-side"))
        for node in pg.locator(CANDIDATES).all()
    ]


def _expected(zones, limit=6) -> list[tuple[str, str]]:
    drawing = dict.fromkeys(zones, DEFAULT_INTENSITY)
    return [(c.muscle, c.side) for c in suggest(drawing, ATLAS, limit=limit)]


def _zone_point(pg, element_id: str) -> tuple[float, float]:
    """Where a finger lands on a zone: its own centre point (data-cx/cy, inside the shape) on screen.

    The centre of a zone's bounding box can fall outside a thin or curved zone (the side of
    the neck), where a neighbour would take the tap.
    """
    pg.locator(f"#{element_id}").scroll_into_view_if_needed()
    point = pg.locator(f"#{element_id}").evaluate(
        """(path) => {
            const svg = path.ownerSVGElement;
            const p = svg.createSVGPoint();
            p.x = Number(path.dataset.cx);
            p.y = Number(path.dataset.cy);
            const screen = p.matrixTransform(path.getScreenCTM());
            return [screen.x, screen.y];
        }"""
    )
    return point[0], point[1]


def tap_zone(pg, element_id: str, touch: bool = False) -> None:
    x, y = _zone_point(pg, element_id)
    assert pg.evaluate("([x, y]) => document.elementFromPoint(x, y).id", [x, y]) == element_id
    if touch:
        pg.touchscreen.tap(x, y)
    else:
        pg.mouse.click(x, y)


def _wait_for_list(pg, expected):
    pg.wait_for_function(
        """(expected) => {
            const nodes = [...document.querySelectorAll('[data-atlas-candidates] [data-atlas-candidate]')];
            return JSON.stringify(nodes.map(n => [n.dataset.muscle, n.dataset.side])) === JSON.stringify(expected);
        }""",
        arg=[list(pair) for pair in expected],
    )


def test_tapping_three_zones_updates_the_suggestions_and_opens_a_muscle_page(page, live_server, physician, screenshot):
    errors = _collect_errors(page)
    browser_login(page, live_server, physician)
    page.goto(f"{live_server.url}/atlas/drawing/")
    assert page.locator(CANDIDATES).count() == 0

    tapped = []
    for zone in ("temple-l", "neck-side-l", "shoulder-top-l"):
        tap_zone(page, f"front--{zone}")
        tapped.append(zone)
        expected = _expected(tapped)
        _wait_for_list(page, expected)  # the list follows every tap, and matches the pure rule
    assert _listed(page)[0] == ("upper_trapezius", "left")
    # The status line is rewritten after the list by the same response; wait for it (Playwright's expect
    # retries) instead of reading it once, which raced on PostgreSQL's slower answer.
    expect(page.locator("[data-atlas-status]")).to_contain_text("best match first")
    first = page.locator(CANDIDATES).first
    assert "Temple, left" in first.locator('[data-slot="matched"]').inner_text()

    # Stronger neck pain re-ranks the list too (the slider acts on the selected zone: the last one tapped).
    tap_zone(page, "front--neck-side-l")
    page.locator("[data-bodymap-step='1']").click()
    drawing = {"temple-l": 5, "neck-side-l": 6, "shoulder-top-l": 5}
    _wait_for_list(page, [(c.muscle, c.side) for c in suggest(drawing, ATLAS, limit=6)])

    # "Add to note" fires atlas:pick; the sandbox collects it into the exam shortlist.
    first.locator("[data-atlas-pick]").click()
    shortlist = page.locator("[data-atlas-shortlist-list]")
    assert "Upper trapezius, left" in shortlist.inner_text()
    assert first.locator("[data-atlas-pick]").is_disabled()
    page.evaluate("window.scrollTo(0, 0)")  # the suggestion panel is sticky: capture it where it starts
    screenshot(page, "atlas-drawing-suggestions")

    first.locator('[data-slot="link"]').click()
    page.wait_for_url("**/atlas/muscles/upper_trapezius/?side=left")
    assert page.locator("h1").inner_text() == "Upper trapezius"
    assert page.locator(".atlas-warning").is_visible()  # over the lung apex
    page.wait_for_selector(".bodymap .tp-marker")
    essential = page.locator(".zone[data-zone].essential").evaluate_all("nodes => nodes.map(n => n.dataset.zone)")
    assert set(essential) == ATLAS.referred_zones("upper_trapezius", "left")[0]
    assert page.locator(".zone[data-zone].spillover").count() > 0
    screenshot(page, "atlas-muscle-upper-trapezius")
    assert errors == []


def test_a_patient_taps_zones_on_a_phone(phone_page, live_server, physician, screenshot):
    errors = _collect_errors(phone_page)
    browser_login(phone_page, live_server, physician)
    phone_page.goto(f"{live_server.url}/atlas/drawing/")
    for zone in ("low-back-r", "buttock-upper-r", "sacroiliac-r"):
        tap_zone(phone_page, f"back--{zone}", touch=True)
    _wait_for_list(phone_page, _expected(["low-back-r", "buttock-upper-r", "sacroiliac-r"]))
    phone_page.locator("[data-atlas-suggestions]").evaluate("node => node.scrollIntoView({block: 'start'})")
    screenshot(phone_page, "atlas-drawing-phone", full_page=False)
    assert errors == []


def test_live_search_narrows_the_atlas_as_you_type(page, live_server, nurse, screenshot):
    errors = _collect_errors(page)
    browser_login(page, live_server, nurse)
    page.goto(f"{live_server.url}/atlas/")
    assert page.locator(".atlas-group").count() == 11  # every region, head to foot
    screenshot(page, "atlas-index", full_page=False)
    page.locator("#atlas-q").fill("heel")
    page.wait_for_function("() => document.querySelector('.atlas-results__count').textContent.includes('heel')")
    names = page.locator(".atlas-table__name a").all_inner_texts()
    expected = [m.name for m in ATLAS.search("heel")]
    assert sorted(names) == sorted(expected)
    assert "q=heel" in page.url  # the search is in the address, so it can be shared or reloaded
    screenshot(page, "atlas-search-heel")
    assert errors == []
