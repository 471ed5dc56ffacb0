"""The assessment calculators' bodies are typed contracts: published in the OpenAPI document, answered the house way."""

import pytest

from triggerpoint.assessment.api import EXAM_EXAMPLE, FIBROMYALGIA_EXAMPLE
from triggerpoint.assessment.exam import BOOLEAN_FINDINGS
from triggerpoint.assessment.fibromyalgia import SEVERITY_ITEMS, SOMATIC_ITEMS
from triggerpoint.core.tests.openapi_support import assert_fits, component, ordered, response_ref

BODIES = {
    "/api/v1/assessments/exam/classify": (
        "ExamFindingIn",
        ["muscle", "side", *BOOLEAN_FINDINGS, "referred_pain_zones"],
        ["pressure_pain_threshold_kg_cm2"],
    ),
    "/api/v1/assessments/fibromyalgia/score": (
        "FibromyalgiaIn",
        ["painful_areas", *SEVERITY_ITEMS, *SOMATIC_ITEMS, "symptom_months"],
        [],
    ),
}


@pytest.mark.parametrize("path", BODIES)
def test_the_openapi_document_describes_the_body_by_ref_with_its_fields(client, path):
    schema = client.get("/api/v1/openapi.json").json()
    name, required, optional = BODIES[path]
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == f"#/components/schemas/{name}"
    component = schema["components"]["schemas"][name]
    assert list(component["properties"]) == required + optional
    assert component["required"] == required
    assert component["additionalProperties"] is False
    assert all(component["properties"][field] for field in required + optional)  # each field has a schema


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "example"), [
    ("/api/v1/assessments/exam/classify", EXAM_EXAMPLE),
    ("/api/v1/assessments/fibromyalgia/score", FIBROMYALGIA_EXAMPLE),
])
def test_the_published_examples_are_accepted(client, bearer, physician, path, example):
    response = client.post(path, data=example, content_type="application/json", **bearer(physician))
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_a_body_of_the_right_shape_reaches_the_rule_which_checks_its_values(client, bearer, physician):
    body = {**EXAM_EXAMPLE, "side": "up", "taut_band": "yes"}
    response = client.post("/api/v1/assessments/exam/classify", data=body, content_type="application/json",
                           **bearer(physician))
    assert response.status_code == 422
    assert response.json()["detail"] == [
        "side must be one of left, right, not 'up'",
        "taut_band must be true or false, not 'yes'",
    ]


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_answered_in_a_sentence(client, bearer, physician):
    response = client.post("/api/v1/assessments/fibromyalgia/score", data="[]", content_type="application/json",
                           **bearer(physician))
    assert (response.status_code, response.json()) == (422, {"detail": ["the request body must be a JSON object"]})


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "example", "name"), [
    ("/api/v1/assessments/exam/classify", EXAM_EXAMPLE, "ExamClassificationOut"),
    ("/api/v1/assessments/fibromyalgia/score", FIBROMYALGIA_EXAMPLE, "FibromyalgiaScoreOut"),
])
def test_the_answer_is_described_by_ref_and_fits_its_schema_field_for_field(client, bearer, physician, path, example,
                                                                           name):
    response = client.post(path, data=example, content_type="application/json", **bearer(physician))
    assert response.status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    ref = response_ref(schema, path)
    assert ref == f"#/components/schemas/{name}"
    assert_fits(schema, component(schema, ref), response.json())
    # Every field of the schema, in the order the answer gives them (the JSON was not reshaped).
    assert list(component(schema, ref)["properties"]) == [key for key, _ in ordered(response.content)]
    assert response.json()["findings"] and all(
        set(finding) <= set(component(schema, "#/components/schemas/RuleFindingOut")["properties"])
        for finding in response.json()["findings"]
    )
