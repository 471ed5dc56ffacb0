"""The audit trail as AuditEvent, and the staff and clinic the clinical resources point at (Practitioner,
Organization)."""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone as _timezone

from triggerpoint.accounts.selectors import practitioners as _practitioners
from triggerpoint.accounts.selectors import usernames_of as _usernames_of
from triggerpoint.audit import services as _audit_services
from triggerpoint.audit.selectors import trail as _trail
from triggerpoint.clinics.selectors import clinics as _clinics
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.mapping import (
    audit_event,
    directory,
)
from triggerpoint.fhir.params import DateValue, Ref, Token
from triggerpoint.fhir.registry import (
    US_CORE_SP,
    ResourceType,
    SearchParam,
    Source,
    by_uuid,
    date_q,
    register,
)
from triggerpoint.fhir.resources.shared import (
    id_param,
    ids_of_values,
    none_for_portal,
)

# ================================================================ audit, practitioners and organizations
# (issue 18) The audit trail as AuditEvent, for the clinic admin and SMART clients granted it; the
# staff and the clinic that the clinical resources point at (`Practitioner/<user id>`,
# `Organization/<clinic id>`). None of the three is a patient's record: `patient_param=None` keeps
# them out of `$everything`; Practitioner and Organization name no patient (`patient_of` None, so
# nothing is audited per patient); an AuditEvent that names a patient is audited for that patient as
# the audit log page audits the patients it lists, and every read or search of the trail is recorded
# once as `audit.log.read` (`audit_access`). The trail is never counted (`count_total=False`).




# ---------------------------------------------------------------- Practitioner (staff accounts)
def _practitioner_name(queryset: QuerySet, values: list[str]) -> QuerySet:
    q = Q(pk__in=[])
    for value in values:
        text = value.strip()
        q |= Q(first_name__istartswith=text) | Q(last_name__istartswith=text)
    return queryset.filter(q)


def _practitioner_identifier(queryset: QuerySet, values: list[Token]) -> QuerySet:
    usernames = []
    for value in values:
        if not value.code:
            raise invalid("Parameter 'identifier' needs a value (system|username or username).")
        if value.system in (None, directory.username_system()):
            usernames.append(value.code)
    return queryset.filter(username__in=usernames)


register(ResourceType(
    name="Practitioner",
    action="practitioner.view",
    profile=directory.PROFILE_PRACTITIONER,
    patient_param=None,
    search_params=(
        id_param("Practitioner"),
        SearchParam("identifier", "token", f"{US_CORE_SP}us-core-practitioner-identifier",
                    "The username: `value`, or `system|value` with this server's system "
                    "(<base>/NamingSystem/staff-username). No NPI is stored."),
        SearchParam("name", "string", f"{US_CORE_SP}us-core-practitioner-name",
                    "A given or family name starting with the value (case ignored)."),
    ),
    sources=(Source(
        records=lambda scope: none_for_portal(scope, _practitioners(scope.clinic_id)),
        to_resource=directory.practitioner_to_fhir,
        patient_of=lambda user: None,
        filters={"_id": by_uuid("public_id"), "identifier": _practitioner_identifier, "name": _practitioner_name},
        order_by=("last_name", "first_name", "username", "pk"),
    ),),
))


# ---------------------------------------------------------------- Organization (the caller's clinic)
def _organization_name(queryset: QuerySet, values: list[str]) -> QuerySet:
    q = Q(pk__in=[])
    for value in values:
        text = value.strip()
        q |= Q(name__istartswith=text) | Q(name__icontains=f" {text}")
    return queryset.filter(q)


register(ResourceType(
    name="Organization",
    action="organization.view",
    profile=directory.PROFILE_ORGANIZATION,
    patient_param=None,
    search_params=(
        id_param("Organization"),
        SearchParam("name", "string", f"{US_CORE_SP}us-core-organization-name",
                    "A word of the clinic's name starting with the value (case ignored)."),
    ),
    sources=(Source(
        records=lambda scope: _clinics(pk=scope.clinic_id),
        to_resource=directory.organization_to_fhir,
        patient_of=lambda clinic: None,
        filters={"_id": by_uuid("public_id"), "name": _organization_name},
    ),),
))


# ---------------------------------------------------------------- AuditEvent (the clinic's audit trail)
# Every filter narrows an indexed column of the trail (audit.selectors.trail): pk, at, patient,
# actor_label, action (the type, subtype and action codes become lists of stored action names).
_EARLIEST = _dt.datetime.min.replace(tzinfo=_dt.UTC)
_LATEST = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def _clinic_midnight(day: _dt.date, fallback: _dt.datetime) -> _dt.datetime:
    """The start of `day` in the active zone (the caller's clinic, `views._principal`), in UTC."""
    try:
        return _dt.datetime.combine(day, _dt.time.min, tzinfo=_timezone.get_current_timezone()).astimezone(_dt.UTC)
    except (OverflowError, ValueError):
        return fallback


def _audit_date(queryset: QuerySet, values: list[DateValue]) -> QuerySet:
    """Days are the clinic's days: `date=2026-12-05` is that day's midnight to midnight in its zone."""
    q = None
    for value in values:
        start = _clinic_midnight(value.start, _EARLIEST)
        end = _clinic_midnight(value.end, _LATEST) if value.end else None
        part = date_q("at", DateValue(value.prefix, start, end))
        q = part if q is None else q | part
    return queryset.filter(q)


def _audit_ids(queryset: QuerySet, values: list[Any]) -> QuerySet:
    ids = [int(i) for i in ids_of_values(values) if i.isascii() and i.isdigit() and len(i) <= 18]
    return queryset.filter(pk__in=ids)


def _audit_agent(queryset: QuerySet, values: list[Ref]) -> QuerySet:
    """`Practitioner/<id>`, or a username (`agent=dr.rivera`): the events of those users."""
    public_ids, usernames = [], []
    for value in values:
        try:
            public_ids.append(uuid.UUID(value.id))
        except ValueError:
            usernames.append(value.id)
    if public_ids:  # usernames are unique across clinics; the trail is already the caller's clinic's
        usernames += _usernames_of(public_ids)
    return queryset.filter(actor_label__in=usernames)


def _audit_altid(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(actor_label__in=[v.code for v in values if v.code])


def _audit_action(queryset: QuerySet, values: list[Token]) -> QuerySet:
    codes = set()
    for value in values:
        if value.code not in audit_event.ACTION_CODES:
            raise invalid(f"Parameter 'action': {value.code!r} is not one of C, R, U, D, E.")
        codes.add(value.code)
    return queryset.filter(action__in=audit_event.actions_with(lambda name: audit_event.action_code(name) in codes))


def _coding_matches(coding: dict[str, str], value: Token) -> bool:
    return coding["code"] == value.code and value.system in (None, coding["system"])


def _audit_type(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(action__in=audit_event.actions_with(
        lambda name: any(_coding_matches(audit_event.type_coding(name), v) for v in values)))


def _in_family(name: str, value: Token) -> bool:
    """Our action family: `procedures`, `procedures.procedure` or a whole action name (dot-bounded)."""
    if value.system not in (None, audit_event.action_system()) or not value.code.strip("."):
        return False
    family = value.code.strip(".")
    current = audit_event.current_name(name)
    return current == family or current.startswith(family + ".")


def _audit_subtype(queryset: QuerySet, values: list[Token]) -> QuerySet:
    return queryset.filter(action__in=audit_event.actions_with(
        lambda name: any(_in_family(name, v) or any(c["system"] == audit_event.RESTFUL and _coding_matches(c, v)
                                                    for c in audit_event.subtype_codings(name)) for v in values)))


def _audit_trail_read(scope, actor, details: dict[str, Any]) -> None:
    _audit_services.record("audit.log.read", clinic=_clinics(pk=scope.clinic_id).first(), details=details,
                           actor=actor)


register(ResourceType(
    name="AuditEvent",
    action="audit.view",
    patient_param=None,  # the trail is not the patient's record: never in $everything
    count_total=False,
    audit_access=_audit_trail_read,
    search_params=(
        id_param("AuditEvent"),
        SearchParam("date", "date", "http://hl7.org/fhir/SearchParameter/AuditEvent-date",
                    "When it was recorded: the clinic's day (its time zone), with the prefixes eq, ne, gt, lt, ge, le."),
        SearchParam("patient", "reference", "http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
                    "The patient the event names (`Patient/<id>` or `<id>`).", target="Patient"),
        SearchParam("agent", "reference", "http://hl7.org/fhir/SearchParameter/AuditEvent-agent",
                    "Who acted: `Practitioner/<id>`, or a username.", target="Practitioner"),
        SearchParam("altid", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-altid",
                    "Who acted, by exact username (any characters; `smart:<client id>` for a SMART client)."),
        SearchParam("action", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-action",
                    "C, R, U, D or E (from the action's verb; a search is E)."),
        SearchParam("type", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-type",
                    "audit-event-type|rest (the FHIR interface), DICOM 110114, 110113, 110106, or the app "
                    "that recorded it (<base>/CodeSystem/audit-action-family|procedures)."),
        SearchParam("subtype", "token", "http://hl7.org/fhir/SearchParameter/AuditEvent-subtype",
                    "Our action family, as on the audit log page: `procedures`, `procedures.procedure` or "
                    "a whole action name (legacy names included); or restful-interaction|read, search-type, "
                    "operation."),
    ),
    sources=(Source(
        records=lambda scope: none_for_portal(scope, _trail(scope.clinic_id)),
        to_resource=audit_event.to_resource,
        patient_of=lambda event: event.patient if event.patient_id is not None else None,
        filters={"_id": _audit_ids, "date": _audit_date, "patient": by_uuid("patient__public_id"),
                 "agent": _audit_agent, "altid": _audit_altid, "action": _audit_action, "type": _audit_type,
                 "subtype": _audit_subtype},
        order_by=("at", "pk"),  # oldest first: the trail grows only at its end, so pages never shift
    ),),
))
