"""`Questionnaire` read and search: the forms every QuestionnaireResponse's `questionnaire` canonical points at.

Served here rather than through the registry on purpose. The registry's types are patient records: each
`Source` is a QuerySet of an owning app scoped to the caller's clinic (or portal patient), paged in the
database, and each record has a patient the views audit. A Questionnaire is none of these: it is generated
from catalogues (the outcome instruments, the follow-up symptom list, the screening questions), the same
for every clinic, a handful of them, and names no patient. Bending the registry to take lists and
patient-less records would change what every other type relies on, so this module serves the few
definitions from `mapping.questionnaire_response.questionnaires()`; its CapabilityStatement entry is
`definitions.capability_entry` (a module without views, so `capability` need not import these).

Who may read: any caller who may read QuestionnaireResponse (its policy action; a SMART grant with
Questionnaire or QuestionnaireResponse scope) — a form is read to make sense of the answers. Nothing is
audited per patient (no patient data); errors are the same OperationOutcomes as everywhere under /fhir/R4/.

Search parameters: `_id` (token), `url` (the canonical URL, optionally `url|version`), with `_count`,
`_offset`, `_total` and `_format` as for every search.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir import registry
from triggerpoint.fhir.definitions import ANSWERS, NAME, SEARCH_PARAMS
from triggerpoint.fhir.errors import FhirError, invalid, not_found
from triggerpoint.fhir.mapping.questionnaire_response import questionnaire, questionnaires
from triggerpoint.fhir.params import ID, check_text, split_values
from triggerpoint.fhir.views import _base, _bundle, _count_and_offset, _principal, fhir_endpoint

CONTROL = ("_format", "_count", "_offset", "_total")


def _authorize(request) -> None:
    principal = _principal(request)
    answers = registry.get(ANSWERS)
    action = answers.action if answers is not None else "screening.view"
    if not (principal.may_read(NAME, action) or principal.may_read(ANSWERS, action)):
        raise FhirError(403, "forbidden", f"Your access does not include {NAME}.")


def _matches(resource: dict[str, Any], name: str, values: list[str]) -> bool:
    if name == "_id":
        return any(value.rpartition("|")[2] == resource["id"] for value in values)
    for value in values:
        url, _, version = value.partition("|")
        if url == resource["url"] and version in ("", resource.get("version")):
            return True
    return False


@fhir_endpoint
def search(request):
    _authorize(request)
    criteria: list[tuple[str, list[str]]] = []
    known = {p.name for p in SEARCH_PARAMS}
    for key, raws in request.GET.lists():
        check_text("parameter name", key)
        if key in CONTROL:
            continue
        name, _, modifier = key.partition(":")
        if name not in known:
            raise invalid(f"Unknown search parameter {key[:60]!r} for {NAME}; supported: "
                          f"{', '.join(sorted(known))}, _count, _total, _format.")
        if modifier:
            raise invalid(f"Modifier :{modifier[:30]} is not supported on {name!r}.")
        criteria += [(name, split_values(name, raw)) for raw in raws]
    for raw in request.GET.getlist("_total"):
        if check_text("_total", raw) not in ("none", "estimate", "accurate"):
            raise invalid("Parameter '_total' must be none, estimate or accurate.")
    count, offset = _count_and_offset(request)
    found = [q for q in questionnaires() if all(_matches(q, name, values) for name, values in criteria)]
    base = _base(request)
    entries = [{"fullUrl": f"{base}{NAME}/{q['id']}", "resource": q, "search": {"mode": "match"}}
               for q in found[offset:offset + count]]
    return _bundle(request, base, len(found), entries, offset, count, NAME)


@fhir_endpoint
def read(request, resource_id: str):
    _authorize(request)
    if not ID.match(resource_id):
        raise not_found(f"{resource_id[:64]!r} is not a FHIR id.")
    found = questionnaire(resource_id)
    if found is None:
        raise not_found(f"No {NAME} with id {resource_id!r} here.")
    return found
