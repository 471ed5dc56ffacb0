"""The calculators' responses are described by their schemas in /api/v1/openapi.json, without changing the JSON.

The schemas (`procedures.responses`) are checked against real answers: every key an answer has is a
property of its schema, every required property is in the answer, and the JSON is exactly what the
result's `as_dict` gives (same keys, same order, same values), so typing the response changed nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from triggerpoint.core.tests.openapi_support import assert_fits, component, ordered, response_ref
from triggerpoint.procedures import coding, dosing
from triggerpoint.procedures.schemas import CodesIn, DoseCheckIn

pytestmark = pytest.mark.django_db

DOSE = {
    "weight_kg": 70,
    "weight_measured_on": (date.today() - timedelta(days=10)).isoformat(),
    "injectates": [
        {"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 6},
        {"drug": "bupivacaine", "concentration_percent": 0.25, "volume_ml": 4},
        {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "volume_ml": 1},
    ],
}
CODES = {
    "sites": [
        {"muscle": "upper_trapezius", "side": "left", "technique": "injection", "insertions": 3},
        {"muscle": "upper_trapezius", "side": "right", "technique": "injection"},
        {"muscle": "levator_scapulae", "side": "left", "technique": "injection"},
    ],
    "guidance": "ultrasound",
    "injectates": [{"drug": "triamcinolone", "dose_mg": 20}],
    "payer": "medicare",
}


def _post(client, path, body, headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_the_dose_check_answer_fits_its_schema_and_is_the_results_json(client, physician, bearer):
    response = _post(client, "/api/v1/procedures/dose-check", DOSE, bearer(physician))
    assert response.status_code == 200
    expected = dosing.check_doses(DoseCheckIn.model_validate(DOSE).to_input()).as_dict()
    assert ordered(response.content) == ordered(json.dumps(expected))
    schema = client.get("/api/v1/openapi.json").json()
    ref = response_ref(schema, "/api/v1/procedures/dose-check")
    assert ref == "#/components/schemas/DoseCheckOut"
    assert_fits(schema, component(schema, ref), response.json())
    # Every field of the schema is in this answer (the exposure ones too), in the answer's order.
    assert list(component(schema, ref)["properties"]) == [key for key, _ in ordered(response.content)]


def test_the_codes_answer_fits_its_schema_and_is_the_results_json(client, physician, bearer):
    response = _post(client, "/api/v1/procedures/codes", CODES, bearer(physician))
    assert response.status_code == 200
    expected = coding.code_session(CodesIn.model_validate(CODES).to_input()).as_dict()
    assert ordered(response.content) == ordered(json.dumps(expected))
    assert expected["cpt"] and expected["hcpcs"]
    # Ultrasound guidance adds a warning without `data`: the key stays absent, not `"data": null`.
    assert any("data" not in warning for warning in expected["warnings"])
    schema = client.get("/api/v1/openapi.json").json()
    ref = response_ref(schema, "/api/v1/procedures/codes")
    assert ref == "#/components/schemas/CodesOut"
    assert_fits(schema, component(schema, ref), response.json())
    assert list(component(schema, ref)["properties"]) == [key for key, _ in ordered(response.content)]
