"""NUL characters and JSON nested beyond reason are refused with a 400 before any view runs.

Both used to be 500s: `RecursionError` in the JSON parser, and PostgreSQL refusing NUL in text
(SQLite stored it, so the same request behaved differently per database). Run this module on
PostgreSQL too (`DATABASE_URL=postgres://…`).
"""

from __future__ import annotations

import json

import pytest

from triggerpoint.core.hostile_input import MAX_JSON_DEPTH, exceeds_depth

DEEP = "[" * 1200 + "]" * 1200


def test_depth_counts_brackets_outside_strings_only():
    assert not exceeds_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}', 3)
    assert exceeds_depth(b'{"a": [1, {"b": 1}]}', 2)
    assert not exceeds_depth(b'{"a": [1, {"b": 1}]}', 3)
    assert not exceeds_depth(b'["[[[[[[", "\\"]]]]]]"]', 1)
    assert not exceeds_depth(b'["' + b"[" * 100 + b'"]', 1)
    assert exceeds_depth(DEEP.encode(), MAX_JSON_DEPTH)
    assert not exceeds_depth(b"[" * 100 + b"}" * 100, MAX_JSON_DEPTH)  # malformed: the parser's 400


def test_depth_check_is_linear_on_hostile_bodies():
    import time

    started = time.process_time()
    for body in (b"[" * 100 + b'\\"' * 1_000_000, b"[" * 100 + b'"' * 2_000_000,
                 b"[1," * 800_000 + b"]" * 800_000, b"[]" * 1_000_000):
        exceeds_depth(body, MAX_JSON_DEPTH)
    assert time.process_time() - started < 5  # the quadratic version took minutes on the first body


@pytest.mark.django_db
def test_deep_json_to_triage_and_to_check_in_answers_is_a_json_400(client, bearer, nurse, patient):
    headers = bearer(nurse)
    for url in ("/api/v1/followup/triage",
                f"/api/v1/followup/patients/{patient.public_id}/checkins/00000000-0000-4000-8000-000000000000/answers"):
        body = '{"answers": ' + DEEP + "}"
        response = client.post(url, data=body, content_type="application/json", **headers)
        assert response.status_code == 400, url
        assert "nested deeper" in response.json()["detail"]


@pytest.mark.django_db
def test_json_at_the_depth_limit_still_reaches_the_handler(client, bearer, nurse):
    body = '{"symptoms": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = client.post("/api/v1/followup/triage", data=body, content_type="application/json", **bearer(nurse))
    assert response.status_code == 422  # the handler's own verdict, not the guard's


@pytest.mark.django_db
def test_a_nul_in_a_json_name_is_refused_and_nothing_is_stored(client, bearer, front_desk):
    from triggerpoint.patients.models import Patient

    body = json.dumps({"mrn": "N-1", "given_name": "Ann\u0000", "family_name": "Nul", "date_of_birth": "1970-01-01"})
    response = client.post("/api/v1/patients/", data=body, content_type="application/json", **bearer(front_desk))
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert not Patient.all_objects.filter(mrn="N-1").exists()


@pytest.mark.django_db
def test_an_escaped_backslash_before_u0000_is_ordinary_text(client, bearer, front_desk):
    body = json.dumps({"mrn": "N-2", "given_name": "Back\\u0000slash", "family_name": "Text",
                       "date_of_birth": "1970-01-01"})
    response = client.post("/api/v1/patients/", data=body, content_type="application/json", **bearer(front_desk))
    assert response.status_code == 201


@pytest.mark.django_db
def test_a_nul_in_the_query_string_is_a_json_400_on_the_api_and_a_plain_400_on_pages(client, bearer, front_desk,
                                                                                     login_as):
    api = client.get("/api/v1/patients/?q=%00", **bearer(front_desk))
    assert api.status_code == 400 and api.json()["detail"].startswith("The query parameter 'q'")
    page = login_as(front_desk).get("/patients/?q=%00")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_a_nul_in_a_form_post_is_a_400_and_the_record_is_unchanged(login_as, front_desk, patient):
    client = login_as(front_desk)
    response = client.post(f"/patients/{patient.public_id}/edit/", {
        "version": patient.version, "mrn": patient.mrn, "given_name": "Pat\x00", "family_name": "Portalowner",
        "date_of_birth": "1980-05-17", "sex": "female", "preferred_language": "en"})
    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.given_name == "Pat"
