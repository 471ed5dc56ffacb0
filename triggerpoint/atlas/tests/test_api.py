"""Atlas API at /api/v1/atlas/: reference reads for staff, and the §8 suggestion contract.

The suggestion endpoint must agree with the pure rule (ATL-SUGGEST) it wraps, list every
problem in a bad drawing, refuse malformed and oversized bodies, and store nothing.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from triggerpoint.atlas.api import SUGGEST_MAX_BODY_BYTES
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.atlas.suggest import SUGGEST_RULE, suggest

pytestmark = pytest.mark.django_db

ATLAS = load_atlas()
SUGGEST = "/api/v1/atlas/suggest"


def drawing(*pairs, limit=None):
    body = {"zones": [{"zone": zone, "intensity": intensity} for zone, intensity in pairs]}
    if limit is not None:
        body["limit"] = limit
    return body


@pytest.fixture
def api(client, physician, bearer):
    headers = bearer(physician)

    class Api:
        def get(self, path):
            return client.get(path, **headers)

        def post(self, path, body, content_type="application/json"):
            data = body if isinstance(body, (str, bytes)) else json.dumps(body)
            return client.post(path, data=data, content_type=content_type, **headers)

    return Api()


# --- reference reads -------------------------------------------------------------------------


def test_zones_lists_the_147_body_map_zones_with_labels(api):
    response = api.get("/api/v1/atlas/zones")
    assert response.status_code == 200
    zones = response.json()
    assert len(zones) == 147
    assert {z["id"] for z in zones} == set(ATLAS.zone_ids)
    temple = next(z for z in zones if z["id"] == "temple-l")
    assert temple == {"id": "temple-l", "label": "Temple, left", "region": "head", "views": ["front"], "side": "left"}


def test_muscles_lists_every_muscle_without_a_query(api):
    response = api.get("/api/v1/atlas/muscles")
    assert response.status_code == 200
    assert {m["id"] for m in response.json()} == set(ATLAS.muscles)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("trapezius", "upper_trapezius"), ("shoulder girdle", "infraspinatus"), ("heel", "soleus")],
    ids=["by-name", "by-region", "by-painful-zone"],
)
def test_muscles_search_by_name_region_or_painful_zone(api, query, expected):
    response = api.get(f"/api/v1/atlas/muscles?q={query}")
    assert response.status_code == 200
    ids = [m["id"] for m in response.json()]
    assert expected in ids
    assert ids == [m.id for m in ATLAS.search(query)]


def test_muscles_search_with_no_match_is_an_empty_list(api):
    response = api.get("/api/v1/atlas/muscles?q=xylophone")
    assert response.status_code == 200
    assert response.json() == []


def test_muscles_search_refuses_an_overlong_query(api):
    response = api.get("/api/v1/atlas/muscles?q=" + "a" * 101)
    assert response.status_code == 422
    assert "at most 100" in response.json()["detail"][0]


def test_muscle_detail_gives_both_sides_and_the_injection_notes(api):
    response = api.get("/api/v1/atlas/muscles/upper_trapezius")
    assert response.status_code == 200
    body = response.json()
    assert body["pneumothorax_risk"] is True
    assert body["needle_depth"]
    assert body["sources"]
    assert body["stretches"][0]["instructions"]
    left_essential, left_spillover = ATLAS.referred_zones("upper_trapezius", "left")
    assert body["referral"]["left"]["essential"] == sorted(left_essential)
    assert body["referral"]["left"]["spillover"] == sorted(left_spillover)
    assert "temple-l" in body["referral"]["left"]["essential"]
    assert "temple-r" in body["referral"]["right"]["essential"]
    assert body["referral"]["left"]["trigger_point_zones"] == ["shoulder-top-l"]


def test_muscle_detail_is_a_json_404_for_an_unknown_id(api):
    response = api.get("/api/v1/atlas/muscles/not_a_muscle")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "not_a_muscle" in response.json()["detail"]


# --- suggest: the §8 contract ----------------------------------------------------------------


def test_suggest_returns_the_contract_fields_best_first(api):
    response = api.post(SUGGEST, drawing(("temple-l", 7), ("neck-side-l", 5), ("shoulder-top-l", 4), limit=5))
    assert response.status_code == 200
    body = response.json()
    candidates = body["candidates"]
    assert 1 <= len(candidates) <= 5
    for candidate in candidates:
        assert {"muscle", "name", "score", "matched_zones", "side", "missing_essential", "matched_essential"} <= set(
            candidate
        )
        assert set(candidate["matched_essential"]) <= set(candidate["matched_zones"])
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert (candidates[0]["muscle"], candidates[0]["side"]) == ("upper_trapezius", "left")
    assert body["rule"] == {"id": SUGGEST_RULE.id, "version": SUGGEST_RULE.version, "basis": SUGGEST_RULE.basis}
    assert body["zone_labels"]["temple-l"] == "Temple, left"


@pytest.mark.parametrize(
    "pairs",
    [
        (("temple-l", 7), ("neck-side-l", 5)),
        (("low-back-r", 8), ("buttock-upper-r", 6), ("sacroiliac-r", 3)),
        (("heel-l", 9),),
        (("shoulder-front-r", 6), ("upper-arm-front-r", 4), ("chest-upper-r", 2), ("sternum", 0)),
    ],
)
def test_suggest_gives_exactly_what_the_pure_rule_gives(api, pairs):
    response = api.post(SUGGEST, drawing(*pairs, limit=7))
    assert response.status_code == 200
    expected = [c.as_dict() for c in suggest(dict(pairs), ATLAS, limit=7)]
    assert response.json()["candidates"] == expected


def test_suggest_defaults_the_limit_to_five(api):
    response = api.post(SUGGEST, drawing(("low-back-l", 8), ("buttock-upper-l", 6), ("low-back-r", 5)))
    assert response.status_code == 200
    assert len(response.json()["candidates"]) == 5


def test_suggest_accepts_a_drawing_of_every_zone_within_the_body_cap(api):
    body = drawing(*[(zone, 10) for zone in ATLAS.zone_ids], limit=20)
    assert len(json.dumps(body).encode()) < SUGGEST_MAX_BODY_BYTES
    response = api.post(SUGGEST, body)
    assert response.status_code == 200
    assert len(response.json()["candidates"]) == 20


def test_suggest_stores_nothing(api):
    from triggerpoint.audit.models import AuditEvent

    api.get("/api/v1/atlas/muscles")  # the token's first use is audited by authentication, not by this endpoint
    before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = api.post(SUGGEST, drawing(("temple-l", 7)))
    assert response.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        # token bookkeeping (last_used_at) belongs to authentication, not to the endpoint
        and "accounts_apitoken" not in q["sql"]
    ]
    assert writes == []
    assert AuditEvent.objects.count() == before


# --- suggest: every refusal ------------------------------------------------------------------


def test_suggest_refuses_unknown_zone_ids_listing_the_allowed_values(api):
    response = api.post(SUGGEST, drawing(("temple-x", 5), ("elbow", 3)))
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert any("temple-x" in p and "elbow" in p and "temple-l" in p for p in problems)


@pytest.mark.parametrize("intensity", [-1, 11, 5.5, "7", True, None])
def test_suggest_refuses_intensities_outside_0_to_10_or_not_whole(api, intensity):
    response = api.post(SUGGEST, drawing(("temple-l", intensity)))
    assert response.status_code == 422
    assert any("temple-l" in p and "intensity" in p for p in response.json()["detail"])


@pytest.mark.parametrize("intensity", [0, 10])
def test_suggest_accepts_both_ends_of_the_intensity_scale(api, intensity):
    response = api.post(SUGGEST, drawing(("temple-l", intensity), ("neck-side-l", 3)))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ({"zones": []}, "empty"),
        ({}, "zones is required"),
        ({"zones": [{"zone": "temple-l", "intensity": 0}]}, "no pain"),
        ({"zones": "temple-l"}, "must be a list"),
        ({"zones": [{"zone": "temple-l"}]}, "'zone' and 'intensity'"),
    ],
    ids=["empty", "missing", "no-pain", "not-a-list", "no-intensity"],
)
def test_suggest_refuses_empty_or_shapeless_drawings(api, body, phrase):
    response = api.post(SUGGEST, body)
    assert response.status_code == 422
    assert any(phrase in p for p in response.json()["detail"])


def test_suggest_refuses_a_json_value_that_is_not_an_object(api):
    response = api.post(SUGGEST, [{"zone": "temple-l", "intensity": 5}])
    assert response.status_code == 422
    assert "JSON object" in response.json()["detail"][0]


@pytest.mark.parametrize("limit", [0, 21, "5"])
def test_suggest_refuses_a_limit_outside_1_to_20(api, limit):
    response = api.post(SUGGEST, drawing(("temple-l", 5), limit=limit))
    assert response.status_code == 422
    assert any("limit" in p for p in response.json()["detail"])


def test_suggest_refuses_more_zones_than_the_body_map_has(api):
    zones = sorted(ATLAS.zone_ids)
    body = drawing(*[(zone, 1) for zone in zones], ("temple-l", 2))
    response = api.post(SUGGEST, body)
    assert response.status_code == 422
    assert any("too many zones" in p for p in response.json()["detail"])


def test_suggest_lists_every_problem_at_once(api):
    response = api.post(SUGGEST, drawing(("nowhere", 3), ("temple-l", 12), ("temple-l", 4), limit=99))
    assert response.status_code == 422
    problems = " | ".join(response.json()["detail"])
    assert "nowhere" in problems
    assert "12" in problems
    assert "more than once" in problems
    assert "limit" in problems


def test_suggest_refuses_a_body_over_the_cap_before_parsing_it(api):
    oversized = '{"zones": [' + " " * SUGGEST_MAX_BODY_BYTES + "]}"
    response = api.post(SUGGEST, oversized)
    assert response.status_code == 413
    assert str(SUGGEST_MAX_BODY_BYTES) in response.json()["detail"][0]


def test_suggest_accepts_a_body_exactly_at_the_cap(api):
    body = json.dumps(drawing(("temple-l", 5)))
    padded = body[:-1] + " " * (SUGGEST_MAX_BODY_BYTES - len(body)) + "}"
    assert len(padded.encode()) == SUGGEST_MAX_BODY_BYTES
    assert api.post(SUGGEST, padded).status_code == 200


@pytest.mark.parametrize("raw", ['{"zones": [', "zones=temple-l", "", b"\xff\xfe"])
def test_suggest_refuses_malformed_json_with_400(api, raw):
    response = api.post(SUGGEST, raw)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"][0]


# --- who may call it -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["nurse", "front_desk", "analyst", "clinic_admin"])
def test_every_staff_role_may_ask_for_suggestions(client, bearer, role, request):
    user = request.getfixturevalue(role)
    response = client.post(SUGGEST, data=json.dumps(drawing(("heel-l", 6))), content_type="application/json",
                           **bearer(user))
    assert response.status_code == 200


def test_a_portal_patient_is_refused(client, patient):
    client.force_login(patient.portal_user)
    response = client.post(SUGGEST, data=json.dumps(drawing(("heel-l", 6))), content_type="application/json")
    assert response.status_code == 403
    assert client.get("/api/v1/atlas/zones").status_code == 403


def test_an_anonymous_caller_is_refused(client):
    response = client.post(SUGGEST, data=json.dumps(drawing(("heel-l", 6))), content_type="application/json")
    assert response.status_code == 401


def test_a_browser_session_needs_the_csrf_header(physician):
    from django.conf import settings
    from django.test import Client

    from triggerpoint.conftest import verified_client

    browser = verified_client(Client(enforce_csrf_checks=True), physician)
    body = json.dumps(drawing(("heel-l", 6)))
    assert browser.post(SUGGEST, data=body, content_type="application/json").status_code == 403
    browser.get("/atlas/drawing/")  # the page sets the CSRF cookie that <body hx-headers> carries
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    allowed = browser.post(SUGGEST, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200
