"""Refuse input no handler should ever see: NUL characters, JSON nested beyond reason, oversized bodies.

One place, before any view or API handler runs:

* **NUL** (U+0000) in the path, the query string, a form field or a JSON string: PostgreSQL
  cannot store it in text (a 500 at write, or at search with `?q=%00`) while SQLite stores it
  silently, so the same request would behave differently per database. No clinical text has
  a reason to contain it.
* **JSON nested deeper than `MAX_JSON_DEPTH`**: Python's parser recurses per level and fails
  with RecursionError (a 500) near 1,000 levels; the deepest body this API accepts (a note's
  injectates inside sites) is under ten levels.
* **A body over DATA_UPLOAD_MAX_MEMORY_SIZE**: Django refuses it when the body is read; here
  the refusal becomes the API's JSON error (413) instead of an HTML 400 page.

API paths (`/api/`) get the API's JSON error shape (`core.api_errors`), FHIR paths (`/fhir/`) an
OperationOutcome; pages get a plain 400.
Uploaded files are not scanned (binary content may contain any byte).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError

from triggerpoint.core.api_errors import error_response

MAX_JSON_DEPTH = 64
API_PREFIX = "/api/"
FHIR_PREFIX = "/fhir/"

# A JSON string, or an unterminated one running to the end: each quote starts at most one scan, so
# removing strings is linear (a pattern needing the closing quote rescans from every quote: quadratic).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
# \u0000 inside a JSON string, unless its backslash is itself escaped (an even run of backslashes before it).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def exceeds_depth(body: bytes, limit: int) -> bool:
    """Whether arrays/objects in `body` nest deeper than `limit`, without parsing it.

    Strings are blanked, everything but brackets dropped, then each round deletes the empty
    `[]`/`{}` pairs (exactly one level per round, at C speed). Brackets that never pair up are
    malformed JSON, left for the parser to refuse.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKETS.sub(b"", _JSON_STRING.sub(b"", body))
    for _round in range(limit):
        reduced = _EMPTY_PAIR.sub(b"", brackets)  # one pass: pairs it empties are the next round's
        if not reduced or reduced == brackets:
            return False
        brackets = reduced
    return True


def _fits_in_memory(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is None or length <= limit


def _textual(content_type: str) -> bool:
    return not content_type or content_type.startswith("text/") or content_type.endswith(("json", "xml"))


def problem_with(request) -> tuple[int, str] | None:
    """(status, reason) when the request must be refused before it reaches a view, else None."""
    if "\x00" in request.path:
        return 400, "The address contains a NUL character."
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return 400, f"The query parameter {key.replace(chr(0), '')!r} contains a NUL character."
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") and not request.META.get("CONTENT_LENGTH"):
        return None
    content_type = request.content_type or ""
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if _fits_in_memory(request):
                request.body  # noqa: B018 - cache it first, so a view may still read the raw body after this
            for key, values in request.POST.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return 400, f"The form field {key.replace(chr(0), '')!r} contains a NUL character."
            return None
        if not _textual(content_type) and not request.path.startswith(API_PREFIX):
            return None  # binary uploads to pages may hold any byte; the API parses every body as JSON
        body = request.body
    except RequestDataTooBig:
        return 413, "The request body is larger than this server accepts."
    except MultiPartParserError:
        return 400, "The form data could not be read."
    if not body:
        return None
    if b"\x00" in body or _ESCAPED_NUL.search(body):
        return 400, "The request body contains a NUL character (\\u0000), which no field may hold."
    if body.lstrip()[:1] in (b"{", b"[") or content_type.endswith("json"):
        if exceeds_depth(body, MAX_JSON_DEPTH):
            return 400, f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
    return None


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = problem_with(request)
        if refused is None:
            return self.get_response(request)
        status, reason = refused
        if request.path.startswith(API_PREFIX):
            return error_response(status, reason, request)
        if request.path.startswith(FHIR_PREFIX):  # the FHIR interface answers every error as an OperationOutcome
            outcome = {"resourceType": "OperationOutcome",
                       "issue": [{"severity": "error", "code": "too-long" if status == 413 else "invalid",
                                  "diagnostics": reason}]}
            return JsonResponse(outcome, status=status, content_type="application/fhir+json")
        if status == 413:
            return HttpResponse(reason, status=413, content_type="text/plain; charset=utf-8")
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
