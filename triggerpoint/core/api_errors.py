"""The API's one error contract: every 4xx/5xx under /api/ is JSON `{"detail": ...}`.

`detail` is a sentence (string), a list of every problem found (strings, or Ninja's
`{"loc", "msg", "type"}` objects for schema errors), or an object of field → problems.
The request id is in the `X-Request-ID` header of every response, errors included.

Three pieces keep the contract whole:

* `error_response` builds the body; the API's exception handlers, the hostile-input
  guard and the login lockout all use it;
* `ApiErrorShapeMiddleware` rewrites any non-JSON error that still reaches an /api/ client
  (Django's own 404/405/500 pages, a CSRF refusal) into the same shape, and adds
  `WWW-Authenticate: Bearer` to every 401;
* `document_error_responses` lists, in /api/v1/openapi.json, every status each operation can
  answer, with this shape.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import JsonResponse

API_PREFIX = "/api/"
WWW_AUTHENTICATE = 'Bearer realm="triggerpoint"'

ERROR_SCHEMA_NAME = "ApiError"
ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "description": "A sentence, a list of every problem found, or an object of field to problems.",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {}},
                {"type": "object"},
            ],
        },
    },
}

# Statuses any operation can answer (the guard refuses NUL and deep JSON in any request with
# 400; an unexpected fault is 500), then those that depend on what the operation does.
WHY = {
    400: "Malformed request: unreadable JSON, a NUL character, or JSON nested too deep.",
    401: "Authentication required: send `Authorization: Bearer <token>` or sign in.",
    403: "Your role may not do this.",
    404: "No such record, or it belongs to another clinic.",
    405: "This record cannot be deleted or changed this way.",
    409: "Conflict: a stale version, a signed record, or a duplicate.",
    413: "The request body is too large.",
    422: "Invalid input: every problem is listed.",
    429: "Too many failed sign-in attempts: wait and try again.",
    500: "Unexpected server fault (reported to the operators).",
}


def error_response(status: int, detail, request=None, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _is_json(response) -> bool:
    return (response.get("Content-Type") or "").split(";")[0].strip().endswith("json")


class ApiErrorShapeMiddleware:
    """Under /api/, no error leaves as HTML or an empty body, and a 401 says how to authenticate."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if not _is_json(response) or not _has_detail(response):
            kept = {name: response[name] for name in ("Allow", "Retry-After", "X-Request-ID") if response.has_header(name)}
            phrase = HTTPStatus(response.status_code).phrase if response.status_code in HTTPStatus._value2member_map_ \
                else "Error"
            response = error_response(response.status_code, phrase, request, headers=kept)
        if response.status_code == 401 and not response.has_header("WWW-Authenticate"):
            response["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response


def _has_detail(response) -> bool:
    if getattr(response, "streaming", False):
        return True
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return False
    return isinstance(body, dict) and "detail" in body


def document_error_responses(schema: dict) -> dict:
    """Add every error status each operation can answer to the OpenAPI document (keeping declared ones)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            statuses = {400, 422, 500}
            if operation.get("security"):  # authenticated operations
                statuses |= {401, 403}
            if "{" in path:
                statuses |= {404}
            if method != "get":
                statuses |= {403, 404, 405, 409, 413}
            if path.endswith("/auth/token"):
                statuses |= {401, 429}
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                entry = responses.setdefault(str(status), {"description": WHY[status]})
                entry.setdefault("description", WHY[status])
                entry.setdefault("content", {"application/json": {"schema": ref}})
    return schema
