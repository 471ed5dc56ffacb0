"""`Binary/{id}`: the PDFs that DocumentReference and Consent point at, read with the same authorization.

A DocumentReference's `content.attachment.url` and a Consent's `sourceAttachment.url` are
`[base]/Binary/<id>` (the mappers' `binary_id`): the signed procedure note (`note-<note id>`), the
assessment visit's summary (`visit-<visit id>`), the signed consent (`consent-<consent id>`). A
client follows the url with the token it read the resource with:

* who may read it is who may read the resource pointing at it (its policy action, or a SMART
  grant's scope for that type): that resource is looked up through the registry's own sources, so
  the clinic (and a portal account's patient) scope is the same; another clinic's id is a 404;
* `Accept: application/pdf` (or `*/*`, or none) answers the PDF itself; `Accept:
  application/fhir+json` (or `_format=json`) a Binary resource with the bytes in `data` and the
  pointing resource as `securityContext`; errors are OperationOutcomes as everywhere else;
* each read is audited once for its patient (`fhir.resource.read`, resource Binary, naming the
  resource it belongs to), like any read.

Binary has no search: `GET Binary` is a 400 saying so (401 without credentials). The PDFs are rendered by the owning apps
(`procedures.documents`, `assessment.documents`, `screening.consent_documents`), the same renderers
as their pages.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse

from triggerpoint.assessment import documents as visit_documents
from triggerpoint.fhir import registry, views
from triggerpoint.fhir.errors import FhirError, not_found
from triggerpoint.fhir.mapping import consent as consent_mapper
from triggerpoint.fhir.mapping import document_reference
from triggerpoint.fhir.params import ID, Token
from triggerpoint.fhir.registry import ResourceType
from triggerpoint.procedures import documents as note_documents
from triggerpoint.screening import consent_documents

PDF = "application/pdf"


@dataclass(frozen=True)
class Document:
    owner: str  # the resource type whose `attachment.url` names this Binary; its read authorizes this one
    owner_id: Callable[[str], str]  # this Binary's id -> that resource's id
    render: Callable[[Any, Any], bytes]  # (record, principal) -> the PDF
    filename: Callable[[Any], str]


def _note_pdf(note, principal) -> bytes:
    # The caller is already granted the note (policy or SMART scope): the images are read as granted.
    return note_documents.note_pdf(note, printed_by=principal.actor, user=None, channel="fhir")


def _visit_pdf(visit, principal) -> bytes:
    return visit_documents.chart_pdf(None, visit)  # no user: the signed record only, no edit links


def _consent_pdf(consent, principal) -> bytes:
    return consent_documents.consent_pdf(consent)


# Binary id prefix -> the document it is. The ids are the mappers' (`document_reference.binary_id`,
# `consent.binary_id`).
DOCUMENTS: dict[str, Document] = {
    document_reference.NOTE_PREFIX: Document(
        "DocumentReference", lambda binary_id: binary_id, _note_pdf, note_documents.note_pdf_filename),
    document_reference.VISIT_PREFIX: Document(
        "DocumentReference", lambda binary_id: binary_id, _visit_pdf,
        lambda visit: f"assessment-{visit.visit_date.isoformat()}-{visit.patient.mrn}.pdf"),
    consent_mapper.BINARY_PREFIX: Document(
        "Consent", lambda binary_id: binary_id[len(consent_mapper.BINARY_PREFIX):], _consent_pdf,
        lambda consent: f"consent-{consent.patient.mrn}-{consent.signed_at.date().isoformat()}.pdf"),
}
OWNERS = tuple(sorted({document.owner for document in DOCUMENTS.values()}))


def _as_binary(owner: ResourceType | None) -> ResourceType:
    """How a refused Binary is audited: object type fhir.binary, the action the pointing resource needs."""
    return ResourceType(name="Binary", action=owner.action if owner else "", sources=(), search_params=())


def negotiate(request) -> str:
    """PDF unless the client asks for the Binary resource in JSON (`Accept` or `_format`); else a 406."""
    if request.GET.get("_format") is not None:
        return views.negotiate(request)
    ranges = []
    for part in request.headers.get("Accept", "").split(","):
        media = views._media(part)
        params = [p.strip().lower() for p in part.split(";")[1:]]
        if media and "q=0" not in params and "q=0.0" not in params:
            ranges.append(media)
    if not ranges or any(m in (PDF, "*/*", "application/*") for m in ranges):
        return PDF
    if views.FHIR_JSON in ranges:
        return views.FHIR_JSON
    if views.PLAIN_JSON in ranges:
        return views.PLAIN_JSON
    raise FhirError(406, "not-supported", "A Binary here is a PDF: send Accept application/pdf, or "
                                          "application/fhir+json for the Binary resource.")


def _document(resource_id: str) -> Document | None:
    return next((doc for prefix, doc in DOCUMENTS.items() if resource_id.startswith(prefix)), None)


def _read(request, resource_id: str):
    principal = views._principal(request)
    if not ID.match(resource_id):
        raise not_found(f"{resource_id[:64]!r} is not a FHIR id.")
    document = _document(resource_id)
    owner = registry.get(document.owner) if document is not None else None
    if document is None or owner is None:
        views._refuse(principal, _as_binary(owner), resource_id, "not_found", 404)
        raise not_found(f"No Binary with id {resource_id!r} here.")
    if not principal.may_read(owner.name, owner.action):
        views._refuse(principal, _as_binary(owner), resource_id, "forbidden", 403)
        raise FhirError(403, "forbidden", f"Your access does not include {owner.name}, whose PDF this Binary is.")
    owner_id = document.owner_id(resource_id)
    for source in owner.sources:
        record = source.filters["_id"](source.records(principal.scope), [Token(None, owner_id)]).first()
        if record is not None:
            break
    else:
        views._refuse(principal, _as_binary(owner), resource_id, "not_found", 404)
        raise not_found(f"No Binary with id {resource_id!r} here.")
    data = document.render(record, principal)
    views._audit_patients("read", principal, [source.patient_of(record)], {
        "channel": "fhir", "resource": "Binary", "id": resource_id, "of": f"{owner.name}/{owner_id}"})
    content_type = negotiate(request)
    if content_type == PDF:
        response = HttpResponse(data, content_type=PDF)
        response["Content-Disposition"] = f'inline; filename="{document.filename(record)}"'
        response["Cache-Control"] = "no-store"
        return response
    return {"resourceType": "Binary", "id": resource_id, "contentType": PDF,
            "securityContext": {"reference": f"{owner.name}/{owner_id}"},
            "data": base64.b64encode(data).decode("ascii")}


def _search(request):
    views._principal(request)  # who asks first: 401 without credentials
    raise FhirError(400, "not-supported", "Binary has no search: read one by id, at the url a DocumentReference's "
                                          "or Consent's attachment gives.")


read = views.fhir_endpoint(_read, negotiator=negotiate)
search = views.fhir_endpoint(_search, negotiator=negotiate)
