"""Every error under /api/v1/ is JSON `{"detail": ...}`, is documented, and a 401 says how to authenticate."""

from __future__ import annotations

import json

import pytest

from triggerpoint.core.api_errors import ERROR_SCHEMA_NAME


def _detail(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


@pytest.mark.django_db
def test_a_401_carries_www_authenticate_bearer(client):
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer token" in _detail(response)


@pytest.mark.django_db
def test_django_own_404_and_405_under_the_api_are_json(client, bearer, nurse):
    assert _detail(client.get("/api/v1/no-such-route", **bearer(nurse))) == "Not Found"
    response = client.delete("/api/v1/followup/triage", **bearer(nurse))
    assert response.status_code == 405 and _detail(response) == "Method Not Allowed"


@pytest.mark.django_db
def test_ninja_schema_errors_keep_the_shape(client, bearer, front_desk):
    response = client.post("/api/v1/patients/", data=json.dumps({"mrn": ""}), content_type="application/json",
                           **bearer(front_desk))
    assert response.status_code == 422
    assert all({"loc", "msg"} <= set(problem) for problem in _detail(response))


@pytest.mark.django_db
def test_an_unexpected_fault_is_a_json_500(client, bearer, nurse, monkeypatch):
    from triggerpoint.patients import search

    def broken(*args, **kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(search, "find_patients", broken)
    client.raise_request_exception = False
    response = client.get("/api/v1/patients/", **bearer(nurse))
    assert response.status_code == 500
    assert _detail(response) == "Internal Server Error"


@pytest.mark.django_db
def test_the_token_lockout_is_a_json_429(client, front_desk, settings):
    settings.AXES_FAILURE_LIMIT = 2
    body = json.dumps({"username": front_desk.username, "password": "wrong", "otp_token": "000000"})
    statuses = [client.post("/api/v1/auth/token", data=body, content_type="application/json").status_code
                for _ in range(3)]
    assert statuses[-1] == 429
    locked = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert "Too many failed sign-in attempts" in _detail(locked)


@pytest.mark.django_db
def test_an_oversized_body_is_a_json_413(client, bearer, nurse, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/v1/followup/triage", data=json.dumps({"free_text": "x" * 2000}),
                           content_type="application/json", **bearer(nurse))
    assert response.status_code == 413 and "larger" in _detail(response)


@pytest.mark.django_db
def test_every_operation_documents_its_error_statuses_with_the_shared_shape(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert ERROR_SCHEMA_NAME in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"400", "422", "500"} <= documented, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= documented, (method, path)
            if "{" in path:
                assert "404" in documented, (method, path)
            if method != "get":
                assert {"409", "413"} <= documented, (method, path)
    assert "429" in schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
