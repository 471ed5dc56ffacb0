"""Atlas pages: search, the muscle page, the drawing sandbox, and the partials other modules include."""

from __future__ import annotations

import json
import re

import pytest
from django.template import Context, Template

from triggerpoint.atlas.catalog import REGION_LABELS, load_atlas
from triggerpoint.atlas.suggest import SUGGEST_RULE, suggest

pytestmark = pytest.mark.django_db

ATLAS = load_atlas()


@pytest.fixture
def staff_client(physician, login_as):
    return login_as(physician)


# --- search ----------------------------------------------------------------------------------


def test_the_index_lists_every_muscle_grouped_by_region_head_to_foot(staff_client):
    response = staff_client.get("/atlas/")
    assert response.status_code == 200
    html = response.content.decode()
    for muscle in ATLAS.muscles.values():
        assert f'href="/atlas/muscles/{muscle.id}/"' in html
    positions = [html.index(f">{label} <") for label in REGION_LABELS.values()]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("trapezius", "upper_trapezius", "soleus"),
        ("leg and foot", "soleus", "upper_trapezius"),
        ("heel", "soleus", "temporalis"),
    ],
    ids=["name", "region", "painful-zone"],
)
def test_search_finds_muscles_by_name_region_or_painful_zone(staff_client, query, present, absent):
    response = staff_client.get("/atlas/", {"q": query})
    html = response.content.decode()
    assert f"/atlas/muscles/{present}/" in html
    assert f"/atlas/muscles/{absent}/" not in html


def test_live_search_returns_only_the_results_fragment(staff_client):
    response = staff_client.get("/atlas/", {"q": "gluteus"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="atlas-results"')
    assert "<html" not in html
    assert "/atlas/muscles/gluteus_medius/" in html


def test_search_says_so_when_nothing_matches(staff_client):
    html = staff_client.get("/atlas/", {"q": "xylophone"}).content.decode()
    assert "No muscle matches" in html


def test_the_search_box_is_wired_for_live_results(staff_client):
    html = staff_client.get("/atlas/").content.decode()
    assert 'hx-get="/atlas/"' in html
    assert 'hx-target="#atlas-results"' in html


# --- the muscle page -------------------------------------------------------------------------


def _pattern(html: str) -> dict:
    match = re.search(r'data-pattern="([^"]*)"', html)
    assert match, "the body map is not in pattern mode"
    return json.loads(match.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_muscle_page_draws_that_sides_referral_and_trigger_point(staff_client, side):
    response = staff_client.get("/atlas/muscles/upper_trapezius/", {"side": side})
    assert response.status_code == 200
    pattern = _pattern(response.content.decode())
    essential, spillover = ATLAS.referred_zones("upper_trapezius", side)
    assert set(pattern["essential"]) == essential
    assert set(pattern["spillover"]) == spillover
    assert set(pattern["trigger_points"]) == ATLAS.trigger_point_zones("upper_trapezius", side)
    assert f"temple-{side[0]}" in pattern["essential"]


def test_the_muscle_page_gives_the_clinical_content_in_plain_words(staff_client):
    muscle = ATLAS.muscle("gluteus_medius")
    html = staff_client.get("/atlas/muscles/gluteus_medius/").content.decode()
    from django.utils.html import escape

    for text in (
        muscle.trigger_points[0].location,
        muscle.trigger_points[0].palpation,
        muscle.activities[0],
        muscle.stretches[0].name,
        muscle.stretches[0].instructions,
        muscle.needle_depth,
    ):
        assert escape(text) in html
    assert "Sources" in html


def test_a_thoracic_muscle_page_carries_the_pneumothorax_warning(staff_client):
    note = ATLAS.safety_notes["pneumothorax"]
    html = staff_client.get("/atlas/muscles/rhomboids/").content.decode()
    assert 'class="atlas-warning"' in html
    assert note.title in html


def test_a_muscle_away_from_the_thorax_has_no_pneumothorax_warning(staff_client):
    html = staff_client.get("/atlas/muscles/gastrocnemius/").content.decode()
    assert 'class="atlas-warning"' not in html


def test_ultrasound_advice_is_shown_where_the_atlas_gives_it(staff_client):
    advised = next(m for m in ATLAS.muscles.values() if m.ultrasound_advised)
    assert "Ultrasound advised" in staff_client.get(f"/atlas/muscles/{advised.id}/").content.decode()
    assert "Ultrasound advised" not in staff_client.get("/atlas/muscles/gastrocnemius/").content.decode()


def test_an_unknown_muscle_or_side_is_not_found(staff_client):
    assert staff_client.get("/atlas/muscles/not_a_muscle/").status_code == 404
    assert staff_client.get("/atlas/muscles/upper_trapezius/", {"side": "middle"}).status_code == 404


# --- the sandbox -----------------------------------------------------------------------------


def test_the_sandbox_has_a_drawing_map_and_a_live_suggestion_list(staff_client):
    html = staff_client.get("/atlas/drawing/").content.decode()
    assert 'data-mode="draw"' in html
    assert 'data-atlas-suggestions' in html
    assert 'data-endpoint="/api/v1/atlas/suggest"' in html
    assert "atlas/suggest.js" in html
    assert SUGGEST_RULE.id in html
    assert "nothing here is saved" in html


def test_pages_have_no_inline_script_or_style(staff_client):
    for path in ("/atlas/", "/atlas/muscles/rhomboids/", "/atlas/drawing/"):
        html = staff_client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


# --- who may see the pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "analyst", "clinic_admin"])
def test_every_staff_role_may_use_the_atlas(role, request, login_as):
    client = login_as(request.getfixturevalue(role))
    for path in ("/atlas/", "/atlas/muscles/deltoid/", "/atlas/drawing/"):
        assert client.get(path).status_code == 200, path


def test_a_portal_patient_is_refused_the_atlas(client, patient):
    client.force_login(patient.portal_user)
    for path in ("/atlas/", "/atlas/muscles/deltoid/", "/atlas/drawing/"):
        assert client.get(path).status_code == 403, path


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/atlas/drawing/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_atlas_pages_write_no_audit_events(staff_client):
    from triggerpoint.audit.models import AuditEvent

    before = AuditEvent.objects.count()
    staff_client.get("/atlas/", {"q": "neck"})
    staff_client.get("/atlas/muscles/deltoid/")
    assert AuditEvent.objects.count() == before


# --- the partials other modules include ------------------------------------------------------


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    "stored",
    [
        [{"zone": "temple-l", "intensity": 7}, {"zone": "heel-r", "intensity": 2}],
        {"temple-l": 7, "heel-r": 2},
        json.dumps([{"zone": "temple-l", "intensity": 7}, {"zone": "heel-r", "intensity": 2}]),
    ],
    ids=["list", "mapping", "json-string"],
)
def test_the_heat_map_partial_shows_a_stored_drawing_in_any_stored_shape(stored):
    html = render('{% include "atlas/_heatmap.html" with heatmap_drawing=drawing %}', drawing=stored)
    assert 'data-mode="heat"' in html
    initial = json.loads(re.search(r'data-drawing="([^"]*)"', html).group(1).replace("&quot;", '"'))
    assert initial == [{"zone": "temple-l", "intensity": 7}, {"zone": "heel-r", "intensity": 2}]
    # the text list works without JavaScript (PDFs) and lists the strongest first
    assert html.index("Temple, left") < html.index("Heel, right")
    assert "7/10" in html


def test_the_heat_map_partial_says_when_no_pain_was_marked():
    assert "No pain marked." in render('{% include "atlas/_heatmap.html" with heatmap_drawing=drawing %}', drawing=[])


def test_the_suggestions_partial_renders_stored_candidates_with_pick_buttons():
    stored = {"temple-l": 7, "neck-side-l": 5}
    html = render(
        '{% load atlas_tags %}{% with suggestions=drawing|atlas_suggestions:3 %}'
        '{% include "atlas/_suggestions.html" with suggestions_pick=True %}{% endwith %}',
        drawing=stored,
    )
    expected = suggest(stored, ATLAS, limit=3)
    listed = re.findall(r'<li class="atlas-candidate" data-atlas-candidate data-muscle="([a-z_]+)" data-side="(\w+)"',
                        html)
    assert listed == [(c.muscle, c.side) for c in expected]
    assert html.count("data-atlas-pick") == len(expected) + 1  # plus the empty template suggest.js clones
    assert f'href="/atlas/muscles/{expected[0].muscle}/?side={expected[0].side}"' in html
    assert "Temple, left" in html


def test_the_suggestions_partial_has_no_pick_buttons_unless_asked():
    html = render('{% include "atlas/_suggestions.html" %}')
    assert "data-atlas-pick" not in html
    assert "data-atlas-candidate-template" in html


def test_stored_drawings_without_pain_give_no_suggestions():
    from triggerpoint.atlas.templatetags.atlas_tags import atlas_suggestions

    assert atlas_suggestions([]) == []
    assert atlas_suggestions({"temple-l": 0}) == []
    assert atlas_suggestions({"temple-l": 11}) == []
