"""Every write endpoint of the API answers bad input with a JSON 4xx, never a 500.

Walks the published OpenAPI schema, so a new endpoint is covered the day it ships.
"""

from __future__ import annotations

import re
import uuid

import pytest

MALFORMED = ["{broken json", "[]", '"text"']
BAD_BODIES = [*MALFORMED, "{}", '{"version": "x", "sites": 5, "zones": null, "weight_kg": -1}']


@pytest.fixture
def write_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    ops = []
    for path, methods in schema["paths"].items():
        for method in methods:
            if method in {"post", "put", "patch"}:
                ops.append((method, path))
    return ops


def test_every_write_endpoint_turns_bad_input_into_a_json_4xx(write_operations, client, physician, patient, bearer):
    headers = bearer(physician)
    assert len(write_operations) > 20
    for method, path in write_operations:
        # Real patient id where the route wants one; unknown ids elsewhere (must be 404, not 500).
        url = re.sub(r"\{patient_id\}", str(patient.public_id), path)
        url = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), url)
        for body in BAD_BODIES:
            response = getattr(client, method)(url, data=body, content_type="application/json", **headers)
            status = response.status_code
            assert status < 500, f"{method.upper()} {path} with {body!r} gave {status}"
            if body in MALFORMED:  # other bodies may be valid for endpoints whose fields are all optional
                assert 400 <= status < 500, f"{method.upper()} {path} accepted {body!r} ({status})"
            if status >= 400:
                assert "detail" in response.json(), f"{method.upper()} {path} gave no JSON detail"
