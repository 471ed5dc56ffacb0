"""Checking an API answer against the response schema /api/v1/openapi.json publishes for it."""

from __future__ import annotations

import json
from typing import Any


def ordered(raw: bytes | str) -> Any:
    """JSON with every object kept as its list of (key, value) pairs, so key order is compared too."""
    return json.loads(raw, object_pairs_hook=list)


def component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def response_ref(schema: dict, path: str, method: str = "post", status: str = "200") -> str:
    """The `$ref` an operation's answer is described by (KeyError when it has none)."""
    return schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]


def assert_fits(schema: dict, model: dict, value: dict, where: str = "response") -> None:
    """Every key of `value` is a property of `model` and every required one is there; nested objects too."""
    properties = model["properties"]
    assert set(value) <= set(properties), f"{where}: keys outside the schema {sorted(set(value) - set(properties))}"
    assert set(model.get("required", [])) <= set(value), f"{where}: required keys missing"
    for key, item in value.items():
        options = properties[key].get("anyOf", [properties[key]])
        refs = [option["$ref"] for option in options if "$ref" in option]
        arrays = [option for option in options if option.get("type") == "array" and "$ref" in option.get("items", {})]
        if isinstance(item, dict) and refs:
            assert_fits(schema, component(schema, refs[0]), item, f"{where}.{key}")
        elif isinstance(item, list) and arrays:
            for index, row in enumerate(item):
                assert_fits(schema, component(schema, arrays[0]["items"]["$ref"]), row, f"{where}.{key}[{index}]")
