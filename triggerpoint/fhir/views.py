"""The FHIR R4 endpoints: metadata, read, search (searchset Bundles), `Patient/{id}/$everything`.

Plain Django views rather than a Ninja router: FHIR has its own content negotiation
(`Accept`, `_format`), its own error resource (OperationOutcome, never `{"detail"}`), resource types
and search parameters that come from the registry at run time rather than one typed route per
operation, and Bundles whose shape Ninja's schemas would only duplicate. Everything an endpoint
does is decided by `registry`; these views parse, authorize, page, audit and answer.

Every error is an OperationOutcome with a 4xx (`errors.FhirError`); every read and search audits
each patient it returns (`audit.services.record_patient_views`, one event per patient; a record that
names no patient, a Practitioner, is not a patient's), and a type with `audit_access` (AuditEvent)
also records the read itself.

A request runs in its caller's clinic time zone (`timezone.override` around the view, activated once
the caller is known), as the pages and /api/v1/ do: "today" and a day searched on a moment
(AuditEvent `date`, an Observation's day) are the clinic's, not UTC's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from triggerpoint.audit import services as audit
from triggerpoint.core import context
from triggerpoint.fhir import capability, registry
from triggerpoint.fhir.auth import WWW_AUTHENTICATE, InvalidToken, Principal, principal_for
from triggerpoint.fhir.errors import FhirError, invalid, not_found, operation_outcome
from triggerpoint.fhir.params import ID, Ref, Token, check_text, parse
from triggerpoint.fhir.registry import ResourceType, SearchParam, Source

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_OFFSET = 1_000_000
MAX_INCLUDED = 1000
REVINCLUDE = "Provenance:target"


# ------------------------------------------------------------------ negotiation and responses
def _media(value: str) -> str:
    return value.split(";")[0].strip().lower()


def negotiate(request) -> str:
    """The content type to answer with; a request that accepts neither FHIR JSON nor JSON is a 406."""
    fmt = request.GET.get("_format")
    if fmt is not None:
        if _media(fmt) in ("json", "fhir+json", FHIR_JSON):
            return FHIR_JSON
        if _media(fmt) == PLAIN_JSON:
            return PLAIN_JSON
        raise FhirError(406, "not-supported", f"_format {fmt[:40]!r} is not served: this server speaks JSON only "
                                              "(json, application/json, application/fhir+json).")
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return FHIR_JSON
    ranges = []
    for part in accept.split(","):
        media = _media(part)
        params = [p.strip().lower() for p in part.split(";")[1:]]
        if "q=0" in params or "q=0.0" in params or not media:
            continue
        ranges.append(media)
    if any(m in (FHIR_JSON, "*/*", "application/*") for m in ranges):
        return FHIR_JSON
    if PLAIN_JSON in ranges:
        return PLAIN_JSON
    raise FhirError(406, "not-supported", "This server answers application/fhir+json or application/json only; "
                                          "send one of them in Accept (or _format=json).")


def _response(body: dict[str, Any], status: int, content_type: str, headers: dict[str, str] | None = None):
    response = HttpResponse(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                            content_type=f"{content_type}; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


REFUSALS = (InvalidToken, FhirError, Http404, PermissionDenied)


def refusal(raised: Exception) -> FhirError:
    """The FHIR error (an OperationOutcome with its status) for a refusal a view raised (one of REFUSALS)."""
    if isinstance(raised, InvalidToken):
        return FhirError(401, "login", "The bearer token is not valid (unknown, expired or revoked).",
                         headers={"WWW-Authenticate": f'{WWW_AUTHENTICATE}, error="invalid_token"'})
    if isinstance(raised, FhirError):
        return raised
    if isinstance(raised, Http404):
        return not_found("No such resource.")
    return FhirError(403, "forbidden", str(raised) or "Forbidden.")


def fhir_endpoint(view: Callable, negotiator: Callable[[Any], str] = negotiate) -> Callable:
    """Negotiate, allow GET only, and turn every refusal into an OperationOutcome.

    The view answers a resource (a dict, sent as the negotiated JSON) or, for content of its own
    (a Binary's PDF), a ready `HttpResponse`; `negotiator` may then accept other media types, and a
    refusal is still an OperationOutcome in FHIR JSON."""

    @csrf_exempt  # nothing here changes state; other methods get the 405 below, not a CSRF page
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            content_type = negotiator(request)
        except FhirError as error:
            return _response(operation_outcome(error.code, error.diagnostics), error.status, FHIR_JSON)
        try:
            if request.method not in ("GET", "HEAD"):
                raise FhirError(405, "not-supported", f"{request.method} is not supported: this FHIR server is "
                                                       "read-only (GET).", headers={"Allow": "GET, HEAD"})
            # `_principal` activates the caller's clinic zone; the override puts back what was active before.
            with timezone.override(timezone.get_current_timezone()):
                result = view(request, *args, **kwargs)
                if isinstance(result, HttpResponse):
                    return result
                return _response(result, 200, content_type)
        except REFUSALS as raised:
            error = refusal(raised)
        if content_type not in (FHIR_JSON, PLAIN_JSON):
            content_type = FHIR_JSON
        return _response(operation_outcome(error.code, error.diagnostics), error.status, content_type, error.headers)

    return wrapper


# ------------------------------------------------------------------ who, and may they
def _principal(request) -> Principal:
    principal = principal_for(request)
    if principal is None:
        raise FhirError(401, "login", "Authentication required: send a Bearer token or sign in.",
                        headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    if principal.zone is not None:
        timezone.activate(principal.zone)  # for this request only: `fhir_endpoint` restores the previous zone
    return principal


def _refuse(principal: Principal, resource: ResourceType, requested_id: str, outcome: str, status: int) -> None:
    """Audit a refused access the way `accounts.policy` does (written after the response)."""
    refusal = {
        "actor": principal.actor if getattr(principal.actor, "pk", None) else None,
        "object_type": f"fhir.{resource.name.lower()}",
        "requested_id": requested_id[:64],
        "requested_action": resource.action,
        "outcome": outcome,
        "status": status,
        "patient_id": None,
        "clinic_id": principal.scope.clinic_id,
    }
    if not context.note_refusal(refusal):
        audit.record_refusals([refusal])


def _resource_type(principal: Principal, name: str, requested_id: str = "") -> ResourceType:
    resource = registry.get(name)
    if resource is None:
        raise not_found(f"Unknown resource type {name[:64]!r}: see /fhir/R4/metadata for what this server serves.")
    if not principal.may_read(resource.name, resource.action):
        _refuse(principal, resource, requested_id or f"{resource.name}?", "forbidden", 403)
        raise FhirError(403, "forbidden", f"Your access does not include {resource.name}.")
    return resource


def _base(request) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")


def _audit_patients(action: str, principal: Principal, patients: list[Any], details: dict[str, Any]) -> None:
    # A source's `patient_of` may name several patients (a Group's members) or none.
    patients = [one for found in patients for one in (found if isinstance(found, list | tuple) else [found])
                if one is not None]
    if action == "read":
        audit.record_patient_views("fhir.resource.read", patients, clinic=principal.scope.clinic_id,
                                   details=details, actor=principal.actor)
    elif action == "search":
        audit.record_patient_views("fhir.resource.searched", patients, clinic=principal.scope.clinic_id,
                                   details=details, actor=principal.actor)
    else:
        audit.record_patient_views("fhir.everything.read", patients, clinic=principal.scope.clinic_id,
                                   details=details, actor=principal.actor)


# ------------------------------------------------------------------ search machinery
Segment = tuple[ResourceType, Source, Any]  # a queryset of one source, filtered and ordered


def _segments(principal: Principal, resource: ResourceType, criteria: list[tuple[SearchParam, list[Any]]]):
    found = []
    for source in resource.sources:
        queryset = source.records(principal.scope)
        for param, values in criteria:
            apply = source.filters.get(param.name)
            queryset = apply(queryset, values) if apply is not None else queryset.none()
        found.append((resource, source, queryset.order_by(*source.order_by)))
    return found


def _page(segments: list[Segment], offset: int, count: int) -> tuple[int, list[tuple[ResourceType, Source, Any]]]:
    """(total, the page's rows), paging across the segments in order.

    A segment read from its start that gives fewer rows than the page still needs has been read whole, so its
    size is the rows it gave and it needs no COUNT (a search whose results fit on one page makes no COUNT)."""
    total = 0
    rows: list[tuple[ResourceType, Source, Any]] = []
    skip, need = offset, count
    for resource, source, queryset in segments:
        if need > 0 and skip == 0:
            chunk = list(queryset[:need])
            size = len(chunk) if len(chunk) < need else queryset.count()
        else:
            size = queryset.count()
            chunk = []
            if need > 0 and skip < size:
                chunk = list(queryset[skip:skip + need])
            skip = max(0, skip - size)
        need -= len(chunk)
        rows.extend((resource, source, record) for record in chunk)
        total += size
    return total, rows


def _page_uncounted(segments: list[Segment], offset: int, count: int):
    """A page of a type never counted (`count_total=False`, one source): one row more than shown says
    whether a next page exists. Returns (total or None, rows, more)."""
    (resource, source, queryset), = segments
    found = list(queryset[offset:offset + count + 1])
    more = len(found) > count
    rows = [(resource, source, record) for record in found[:count]]
    total = offset + len(rows) if not more and (rows or not offset) else None
    return total, rows, more


def _count_and_offset(request) -> tuple[int, int]:
    count, offset = DEFAULT_COUNT, 0
    raw = request.GET.getlist("_count")
    if raw:
        text = check_text("_count", raw[-1]).strip()
        if not text.isdigit() or not text.isascii():
            raise invalid("Parameter '_count' must be a whole number (0 or more).")
        count = min(int(text), MAX_COUNT) if len(text) <= 12 else MAX_COUNT  # a server may return fewer
    raw = request.GET.getlist("_offset")
    if raw:
        text = check_text("_offset", raw[-1]).strip()
        if not text.isdigit() or not text.isascii() or len(text) > 7 or int(text) > MAX_OFFSET:
            raise invalid(f"Parameter '_offset' must be a whole number from 0 to {MAX_OFFSET}.")
        offset = int(text)
    return count, offset


def _criteria(request, resource: ResourceType) -> tuple[list[tuple[SearchParam, list[Any]]], bool]:
    criteria: list[tuple[SearchParam, list[Any]]] = []
    revinclude = False
    for key, values in request.GET.lists():
        check_text("parameter name", key)
        if key in ("_format", "_count", "_offset"):
            continue
        if key == "_total":  # the total is always counted exactly
            if any(check_text(key, v) not in ("none", "estimate", "accurate") for v in values):
                raise invalid("Parameter '_total' must be none, estimate or accurate.")
            continue
        if key == "_revinclude":
            for value in values:
                if check_text(key, value) != REVINCLUDE:
                    raise invalid(f"_revinclude={value[:60]!r} is not supported; this server offers {REVINCLUDE}.")
            revinclude = True
            continue
        name, _, modifier = key.partition(":")
        param = resource.param(name)
        if param is None:
            known = ", ".join(p.name for p in resource.search_params)
            raise invalid(f"Unknown search parameter {key[:60]!r} for {resource.name}; supported: {known}, "
                          "_count, _total, _revinclude, _format.")
        if modifier:
            raise invalid(f"Modifier :{modifier[:30]} is not supported on {name!r}.")
        for raw in values:
            criteria.append((param, parse(name, param.type, raw, param.target)))
    return criteria, revinclude


def _entry(base: str, resource: ResourceType, source: Source, record: Any, mode: str) -> dict[str, Any]:
    body = source.to_resource(record)
    return {"fullUrl": f"{base}{body['resourceType']}/{body['id']}", "resource": body, "search": {"mode": mode}}


def _included_provenance(principal: Principal, base: str, entries: list[dict[str, Any]]):
    """The Provenance that targets the page's resources, when Provenance is registered and readable."""
    provenance = registry.get("Provenance")
    target = provenance.param("target") if provenance is not None else None
    if target is None or not entries or not principal.may_read(provenance.name, provenance.action):
        return [], []
    refs = [Ref(e["resource"]["resourceType"], e["resource"]["id"]) for e in entries]
    segments = _segments(principal, provenance, [(target, refs)])
    _total, rows = _page(segments, 0, MAX_INCLUDED)
    return [_entry(base, r, s, record, "include") for r, s, record in rows], [s.patient_of(rec) for _r, s, rec in rows]


def _bundle(request, base: str, total: int | None, entries: list[dict[str, Any]], offset: int, count: int,
            path: str, more: bool | None = None) -> dict[str, Any]:
    """A searchset; `total` None when it was not counted (then `more` says whether a next page exists)."""
    kept = [(k, v) for k, vs in request.GET.lists() for v in vs if k != "_offset"]
    self_url = f"{base}{path}" + (f"?{urlencode(kept + ([('_offset', offset)] if offset else []))}")
    links = [{"relation": "self", "url": self_url.rstrip("?")}]
    if count and (more if more is not None else offset + count < (total or 0)):
        links.append({"relation": "next", "url": f"{base}{path}?{urlencode(kept + [('_offset', offset + count)])}"})
    if offset:
        previous = max(0, offset - count) if count else 0
        links.append({"relation": "previous", "url": f"{base}{path}?{urlencode(kept + [('_offset', previous)])}"})
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}
    if total is None:
        del bundle["total"]
    return bundle


# ------------------------------------------------------------------ endpoints
@fhir_endpoint
def metadata(request):
    return capability.capability_statement(_base(request))


@fhir_endpoint
def search(request, resource_type: str):
    principal = _principal(request)
    resource = _resource_type(principal, resource_type)
    criteria, revinclude = _criteria(request, resource)
    count, offset = _count_and_offset(request)
    base = _base(request)
    more = None
    if resource.count_total:
        total, rows = _page(_segments(principal, resource, criteria), offset, count)
    else:
        total, rows, more = _page_uncounted(_segments(principal, resource, criteria), offset, count)
    entries = [_entry(base, r, s, record, "match") for r, s, record in rows]
    patients = [s.patient_of(record) for _r, s, record in rows]
    if revinclude:
        included, included_patients = _included_provenance(principal, base, entries)
        entries += included
        patients += included_patients
    details = {"channel": "fhir", "resource": resource.name, "parameters": sorted({p.name for p, _v in criteria}),
               "results": len(rows)}
    _audit_patients("search", principal, patients, details)
    if resource.audit_access is not None:
        resource.audit_access(principal.scope, principal.actor, {**details, "interaction": "search-type",
                                                                 "offset": offset})
    return _bundle(request, base, total, entries, offset, count, resource.name, more)


@fhir_endpoint
def read(request, resource_type: str, resource_id: str):
    principal = _principal(request)
    resource = _resource_type(principal, resource_type, resource_id)
    if not ID.match(resource_id):
        raise not_found(f"{resource_id[:64]!r} is not a FHIR id.")
    for source in (*resource.sources, *((resource.replaced,) if resource.replaced else ())):
        record = source.filters["_id"](source.records(principal.scope), [Token(None, resource_id)]).first()
        if record is not None:
            body = source.to_resource(record)
            details = {"channel": "fhir", "resource": resource.name, "id": resource_id}
            _audit_patients("read", principal, [source.patient_of(record)], details)
            if resource.audit_access is not None:
                resource.audit_access(principal.scope, principal.actor, {**details, "interaction": "read"})
            return body
    _refuse(principal, resource, resource_id, "not_found", 404)
    raise not_found(f"No {resource.name} with id {resource_id!r} here.")


@fhir_endpoint
def everything(request, resource_id: str):
    """`Patient/{id}/$everything`: the patient and every registered resource that names them, paged."""
    principal = _principal(request)
    patient_type = _resource_type(principal, "Patient", resource_id)
    for key, values in request.GET.lists():
        check_text("parameter name", key)
        for value in values:
            check_text(key, value)
        if key not in ("_format", "_count", "_offset"):
            raise invalid(f"Parameter {key[:60]!r} is not supported on $everything (use _count).")
    count, offset = _count_and_offset(request)
    if not ID.match(resource_id):
        raise not_found(f"{resource_id[:64]!r} is not a FHIR id.")
    ref = [Ref("Patient", resource_id)]
    id_param = patient_type.param("_id")
    segments = _segments(principal, patient_type, [(id_param, [Token(None, resource_id)])])
    if not any(queryset.exists() for _r, _s, queryset in segments):
        _refuse(principal, patient_type, resource_id, "not_found", 404)
        raise not_found(f"No Patient with id {resource_id!r} here.")
    for resource in registry.all_types():
        param = resource.param(resource.patient_param) if resource.patient_param else None
        if resource.name == "Patient" or param is None or param.type != "reference":
            continue
        if principal.may_read(resource.name, resource.action):
            segments += _segments(principal, resource, [(param, ref)])
    base = _base(request)
    total, rows = _page(segments, offset, count)
    entries = [_entry(base, r, s, record, "match") for r, s, record in rows]
    _audit_patients("everything", principal, [s.patient_of(record) for _r, s, record in rows],
                    {"channel": "fhir", "resource": "Patient", "id": resource_id, "operation": "$everything",
                     "results": len(rows)})
    return _bundle(request, base, total, entries, offset, count, f"Patient/{resource_id}/$everything")


@fhir_endpoint
def unknown(request, path: str = ""):
    raise not_found(f"Nothing is served at /fhir/R4/{path[:80]}: see /fhir/R4/metadata.")
