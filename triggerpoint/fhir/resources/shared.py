"""What the resource modules share: the common search parameters and filters, and mapper adapters."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.params import Ref, Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    Filter,
    SearchParam,
)
from triggerpoint.patients import selectors as patients


def id_param(resource: str) -> SearchParam:
    return SearchParam("_id", "token", f"{US_CORE_SP}us-core-{resource.lower()}-id"
                       if resource in ("Patient", "Encounter") else "http://hl7.org/fhir/SearchParameter/Resource-id",
                       "The resource's logical id.")


def patient_param(resource: str) -> SearchParam:
    return SearchParam("patient", "reference", f"{US_CORE_SP}us-core-{resource.lower()}-patient",
                       "The patient (`Patient/<id>` or `<id>`).", target="Patient")


def clinical_patient_param() -> SearchParam:
    """`patient` for a type without a US Core profile: base R4's clinical-patient parameter."""
    return SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
                       "The patient (`Patient/<id>` or `<id>`).", target="Patient")


def by_patient(uuid_field: str) -> Filter:
    """The `patient` reference filter: the records of every chart that makes up the patient named (a merged
    patient's absorbed charts too, `patients.selectors.chart_ids_named`), matched on the primary key beside
    `uuid_field` (``patient__public_id`` -> ``patient_id``; ``public_id``, the patient row itself -> ``pk``)."""
    pk_field = "pk" if uuid_field == "public_id" else uuid_field.removesuffix("__public_id") + "_id"

    def apply(queryset: QuerySet, values: list[Any]) -> QuerySet:
        named = uuids(ids_of_values(values))
        return queryset.filter(**{f"{pk_field}__in": patients.chart_ids_named(named) if named else []})

    return apply


def uuids(ids: list[str]) -> list[uuid.UUID]:
    found = []
    for value in ids:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def codes_in(allowed: set[str], system: str | None, name: str, *, strict: bool = False):
    """A token filter for a value every record of the source shares: all records or none.

    `strict`: a code outside `allowed` (in the parameter's value set) is a 400, not an empty result."""

    def apply(queryset: QuerySet, values: list[Token]) -> QuerySet:
        for value in values:
            if strict and value.code not in allowed:
                raise invalid(f"Parameter {name!r}: {value.code!r} is not one of {', '.join(sorted(allowed))}.")
        hit = any(v.code in allowed and v.system in (None, system) for v in values)
        return queryset if hit else queryset.none()

    return apply


def mapped(mapper, record: Any) -> dict[str, Any]:
    return mapper.to_resource(record)


def ids_filter(match) -> Filter:
    """An `_id` filter from a mapper's `filter_*ids(queryset, ids)` (ids as plain strings)."""
    return lambda queryset, values: match(queryset, ids_of_values(values))


def ids_of_values(values: list[Any]) -> list[str]:
    return [v.code if isinstance(v, Token) else v.id if isinstance(v, Ref) else str(v) for v in values]


def targets_filter(match) -> Filter:
    """A `target` filter from a mapper's `filter_*targets(queryset, refs)` (refs as `Type/id` strings)."""
    return lambda queryset, values: match(
        queryset, [f"{v.type}/{v.id}" if isinstance(v, Ref) else str(v) for v in values])


def none_for_portal(scope, queryset: QuerySet) -> QuerySet:
    """Staff directory and trail: a portal account's scope (one patient) sees none of it."""
    return queryset.none() if scope.patient_id is not None else queryset


def patient_clinic(scope) -> dict[str, Any]:
    return scope.lookup("patient_id", "clinic_id")
