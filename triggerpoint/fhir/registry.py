"""The one list of what /fhir/R4/ serves: resource types, where their records come from, how they search.

Everything else is generated from it: the views (read, search, `$everything`, `_revinclude`), the
CapabilityStatement (`GET /fhir/R4/metadata`) and the test that calls every declared search.

A resource type (`ResourceType`) declares
  * `name` — the FHIR type; `profile` — its US Core profile URL, or None for base R4;
  * `action` — the `accounts.policy` action a user needs to read it (the same policy as the pages
    and /api/v1/: front desk holds `patient.view` but not the clinical ones; a portal patient only
    what the portal allows, and only their own record); a SMART grant is asked `allows(name)`;
  * `sources` — one or more `Source`s: a selector of the owning app giving the records the caller
    may see (`records(scope)`), the pure mapper (`to_resource`), the record's patient (for the
    audit and `$everything`), and per search parameter how it narrows the records (`filters`).
    Several sources make one type (Encounter: assessment visits and procedure visits; the
    allergy list and "no known drug allergies"); results are paged across them in order;
  * `search_params` — `SearchParam(name, type, definition, documentation)`; every declared
    parameter needs a filter in every source (a source without one matches nothing for it);
  * `combinations` — the US Core SHALL combinations, shown in the CapabilityStatement.

Registering a new resource type is a few lines in the module of its family in `triggerpoint/fhir/resources/`
(a new family is a new module, imported by the package's `__init__`):

    register(ResourceType(
        name="Procedure", action="procedure.view", profile=US_CORE + "us-core-procedure",
        search_params=(ID_PARAM, PATIENT_PARAM, date_param("date", US_CORE_SP + "us-core-procedure-date")),
        combinations=(("patient",), ("patient", "date")),
        sources=(Source(
            records=lambda scope: signed_procedures(**scope.lookup("patient_id")),
            to_resource=procedure.to_fhir, patient_of=lambda note: note.patient,
            filters={"_id": by_uuid("public_id"), "patient": by_uuid("patient__public_id"),
                     "date": by_date("procedure_date")},
        ),),
    ))

`Provenance` registered with a `target` reference parameter turns on `_revinclude=Provenance:target`
(its filter receives the `Type/id` references of the page).

Records that are not patient data, or not always (AuditEvent, Practitioner, Organization):
  * `Source.patient_of` may return None for a record that names no patient: the views audit each
    patient a response shows and skip the records without one (a Practitioner is nobody's chart);
  * `patient_param=None` keeps a type out of `Patient/{id}/$everything` (and out of any patient
    compartment), even when it declares a `patient` search parameter (AuditEvent does: the trail is
    not the patient's record);
  * `count_total=False` pages without counting (a ten-million-row table must never be counted for
    a page): a page fetches one row more than it shows to know whether there is a next one, and the
    Bundle's `total` is given only when the last page is reached. Such a type has one source;
  * `audit_access(scope, actor, details)`, when given, is called once for every read and search of
    the type, whatever it returned (reading the audit trail is itself audited, `audit.log.read`).

Definitions that belong to no patient and live in catalogues, not tables (Questionnaire), are served beside
the registry: `fhir.questionnaires` (views) and `fhir.definitions` (their CapabilityStatement entry).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import Q, QuerySet

from triggerpoint.fhir.params import DateValue, Ref, Token

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
US_CORE_SP = "http://hl7.org/fhir/us/core/SearchParameter/"


@dataclass(frozen=True)
class Scope:
    """What a caller may see: one clinic, and within it one patient for a portal account (else None).

    `chart_ids`: every chart that makes up that patient after a merge (`patients.selectors.chart_ids`); a
    portal account sees the records of all of them."""

    clinic_id: int
    patient_id: int | None = None
    chart_ids: tuple[int, ...] = ()

    def lookup(self, patient_field: str, clinic_field: str = "clinic_id") -> dict[str, Any]:
        """Selector filters for this scope, naming the record's patient and clinic fields."""
        filters: dict[str, Any] = {clinic_field: self.clinic_id}
        if self.patient_id is not None:
            if self.chart_ids:
                filters[f"{patient_field}__in"] = list(self.chart_ids)
            else:
                filters[patient_field] = self.patient_id
        return filters


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # token | string | date | reference
    definition: str | None = None
    documentation: str = ""
    target: str | None = None  # a reference parameter's resource type


Filter = Callable[[QuerySet, list[Any]], QuerySet]


@dataclass(frozen=True)
class Source:
    records: Callable[[Scope], QuerySet]
    to_resource: Callable[[Any], dict[str, Any]]
    patient_of: Callable[[Any], Any]  # the record's patient, or None when it names none
    filters: Mapping[str, Filter]
    order_by: tuple[str, ...] = ("pk",)


@dataclass(frozen=True)
class ResourceType:
    name: str
    action: str
    sources: tuple[Source, ...]
    search_params: tuple[SearchParam, ...]
    profile: str | None = None
    combinations: tuple[tuple[str, ...], ...] = ()
    patient_param: str | None = "patient"  # the parameter naming the patient ($everything, compartments)
    operations: tuple[tuple[str, str], ...] = field(default=())  # (name, OperationDefinition URL)
    count_total: bool = True  # False: page without COUNT (see above); one source only
    audit_access: Callable[[Scope, Any, dict[str, Any]], None] | None = None  # once per read/search
    # Records a read still answers but no search lists (a chart merged into another: `Patient.link` replaced-by).
    replaced: Source | None = None

    def param(self, name: str) -> SearchParam | None:
        return next((p for p in self.search_params if p.name == name), None)


_REGISTRY: dict[str, ResourceType] = {}


def register(resource: ResourceType) -> ResourceType:
    """Add a resource type (or replace one of that name). Each source must filter `_id` (read uses it)."""
    for source in resource.sources:
        if "_id" not in source.filters:
            raise ValueError(f"{resource.name}: every source needs an `_id` filter (read looks records up by it)")
    if not resource.count_total and len(resource.sources) != 1:
        raise ValueError(f"{resource.name}: a type paged without counting has exactly one source")
    _REGISTRY[resource.name] = resource
    return resource


def get(name: str) -> ResourceType | None:
    return _REGISTRY.get(name)


def all_types() -> list[ResourceType]:
    return sorted(_REGISTRY.values(), key=lambda r: (r.name != "Patient", r.name))


# ------------------------------------------------------------------ filters the sources share
def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def ids_of(values: list[Any]) -> list[str]:
    """Plain ids from token (`_id`) or reference (`patient`) values."""
    out = []
    for value in values:
        if isinstance(value, Token):
            out.append(value.code)
        elif isinstance(value, Ref):
            out.append(value.id)
        else:
            out.append(str(value))
    return out


def by_uuid(field_name: str, prefix: str = "") -> Filter:
    """Match ids (`_id` tokens or `patient` references) against a UUID field; ids carry `prefix` when given."""

    def apply(queryset: QuerySet, values: list[Any]) -> QuerySet:
        ids = ids_of(values)
        if prefix:
            ids = [i[len(prefix):] for i in ids if i.startswith(prefix)]
        return queryset.filter(**{f"{field_name}__in": _uuids(ids)})

    return apply


EVERYTHING = Q(pk__isnull=False)
NOTHING = Q(pk__in=[])


def date_q(field_name: str, value: DateValue) -> Q:
    """The records whose day (a date field) satisfies one prefixed date value (see `params`).

    (An empty `Q()` is never used: OR-ed with another it vanishes instead of matching everything.)"""
    start, end, f = value.start, value.end, field_name
    on_or_after_start = Q(**{f"{f}__gte": start})
    before_end = Q(**{f"{f}__lt": end}) if end else EVERYTHING
    if value.prefix == "eq":
        return on_or_after_start & before_end
    if value.prefix == "ne":
        return ~(on_or_after_start & before_end)
    if value.prefix in ("gt", "sa"):
        return Q(**{f"{f}__gte": end}) if end else NOTHING
    if value.prefix in ("lt", "eb"):
        return Q(**{f"{f}__lt": start})
    if value.prefix == "ge":
        return on_or_after_start
    return before_end  # le


def by_date(field_name: str) -> Filter:
    def apply(queryset: QuerySet, values: list[DateValue]) -> QuerySet:
        q = date_q(field_name, values[0])
        for value in values[1:]:
            q |= date_q(field_name, value)
        return queryset.filter(q)

    return apply


def by_utc_day(field_name: str) -> Filter:
    """A date filter on a moment (a DateTimeField): the value's days are UTC days, as the resource's
    instant (`...Z`) shows them, so `date=2026-03-04` finds what reads `2026-03-04T...Z`."""

    def apply(queryset: QuerySet, values: list[DateValue]) -> QuerySet:
        q = Q(pk__in=[])
        for value in values:
            start = datetime.combine(value.start, time.min, tzinfo=UTC)
            end = datetime.combine(value.end, time.min, tzinfo=UTC) if value.end else None
            q |= date_q(field_name, DateValue(value.prefix, start, end))
        return queryset.filter(q)

    return apply


def matches_none(queryset: QuerySet, values: list[Any]) -> QuerySet:
    return queryset.none()
