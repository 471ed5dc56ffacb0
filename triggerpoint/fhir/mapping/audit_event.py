"""Rows of the audit trail → R4 AuditEvent (base R4: US Core has no AuditEvent profile).

Pure: reads an `audit.AuditEvent` row with its actor and patient loaded (`audit.selectors.trail`).

* `id` is the row's key (the trail has no public id; only the clinic admin's client reads it).
* `type`/`subtype`: what our action (`<app>.<record>.<verb>`, `audit/actions.py`) was. The FHIR
  interface's own events (`fhir.*`) are `audit-event-type|rest` with the FHIR interaction as subtype
  (`restful-interaction|read`, `search-type`, `operation`); sign-ins are DICOM 110114 (User
  Authentication), refusals 110113 (Security Alert), exports 110106 (Export); the rest are typed by
  the app that wrote them in our own system (`<base>/CodeSystem/audit-action-family`). Every event
  also carries its action name in `subtype` (`<base>/CodeSystem/audit-action`); events stored under
  a name used before the names were unified (`LEGACY_ACTIONS`) are shown under the current name.
* `action` C/R/U/D/E from the action's verb (a search is E, as R4 defines it).
* `outcome` 0, or 4 (minor failure) for refusals, failed sign-ins and rejected second factors.
* `agent`: the user who acted (requestor): `who` names a staff member's `Practitioner/<id>`, with
  the username as identifier and `altId`, and the client's IP; a system event's agent is the server.
* `source.observer`: the clinic's deployment (`Organization/<clinic id>`), `site` the server's base.
* `entity`: the patient (`Patient/<id>`, role 1) when the row names one, and the record acted on
  (its kind and id) with the row's details.

`actions_with(match)` lists the stored action names (current and legacy) whose coding matches: the
`type`, `subtype` and `action` searches filter on those names, so they run on the (clinic, action,
at) index.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from triggerpoint.audit.actions import LEGACY_ACTIONS, AuditAction
from triggerpoint.fhir.mapping.clinical_common import base_or_default, instant, patient_reference, prune
from triggerpoint.fhir.mapping.directory import username_system

AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
NETWORK_IP = "2"

REST = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
AUTHENTICATION = {"system": DICOM, "code": "110114", "display": "User Authentication"}
SECURITY_ALERT = {"system": DICOM, "code": "110113", "display": "Security Alert"}
EXPORT = {"system": DICOM, "code": "110106", "display": "Export"}
FHIR_INTERACTIONS = {
    "fhir.resource.read": ("read", "read"),
    "fhir.resource.searched": ("search-type", "search type"),
    "fhir.everything.read": ("operation", "operation"),
}
AUTHENTICATION_ACTIONS = {"accounts.session.signed_in", "accounts.session.signed_out", "accounts.session.locked_out",
                          "accounts.session.sign_in_failed", "accounts.second_factor.rejected"}
FAILURES = {"audit.access.refused", "accounts.session.sign_in_failed", "accounts.second_factor.rejected",
            "accounts.session.locked_out", "accounts.smart_token.refused"}

# The verb of an action (its last part) -> R4 AuditEvent.action; any verb not listed is E (execute).
CREATE = {"created", "added", "issued", "registered", "recorded", "generated", "uploaded", "raised", "scheduled",
          "enrolled", "call_note"}
READ = {"viewed", "listed", "read", "opened", "downloaded", "printed", "shown", "previewed", "exported",
        "exported_deidentified", "joined", "first_used", "link_opened"}
UPDATE = {"updated", "amended", "signed", "autosaved", "draft_saved", "acknowledged", "resolved", "reviewed",
          "overridden", "dose_overridden", "repeat_overridden", "screening_overridden", "made_primary", "replaced",
          "roles_changed", "reactivated", "status_changed", "moved", "confirmed_by_patient", "no_show", "cancelled",
          "merged", "extended", "checked", "unchecked", "rescheduled", "answered", "billed", "reopened", "opted_in",
          "opted_out", "escalated", "expired", "missed", "reset", "evaluated", "prefilled", "reschedule_requested",
          "link_sent", "paged"}
DELETE = {"removed", "discarded", "deactivated", "revoked", "withdrawn", "stopped", "dismissed"}
ACTION_CODES = ("C", "R", "U", "D", "E")


def current_name(action: str) -> str:
    """The registered name of a stored action (a legacy name maps to its current one)."""
    legacy = LEGACY_ACTIONS.get(action)
    return legacy.value if legacy is not None else action


def stored_names() -> list[str]:
    """Every action name the trail may hold: the registry's and the legacy ones."""
    return [a.value for a in AuditAction] + list(LEGACY_ACTIONS)


def action_code(action: str) -> str:
    name = current_name(action)
    if name == "fhir.resource.read":
        return "R"
    verb = name.rsplit(".", 1)[-1]
    for code, verbs in (("C", CREATE), ("R", READ), ("U", UPDATE), ("D", DELETE)):
        if verb in verbs:
            return code
    return "E"


def family_system(base_url: str | None = None) -> str:
    return f"{base_or_default(base_url)}/CodeSystem/audit-action-family"


def action_system(base_url: str | None = None) -> str:
    return f"{base_or_default(base_url)}/CodeSystem/audit-action"


def type_coding(action: str, base_url: str | None = None) -> dict[str, str]:
    name = current_name(action)
    if name in FHIR_INTERACTIONS:
        return REST
    if name in AUTHENTICATION_ACTIONS:
        return AUTHENTICATION
    if name == "audit.access.refused":
        return SECURITY_ALERT
    if name.rsplit(".", 1)[-1].startswith("exported"):
        return EXPORT
    app = name.split(".", 1)[0]
    return {"system": family_system(base_url), "code": app, "display": f"{app} app"}


def subtype_codings(action: str, base_url: str | None = None) -> list[dict[str, str]]:
    name = current_name(action)
    codings = []
    if name in FHIR_INTERACTIONS:
        code, display = FHIR_INTERACTIONS[name]
        codings.append({"system": RESTFUL, "code": code, "display": display})
    codings.append({"system": action_system(base_url), "code": name})
    return codings


def actions_with(match: Callable[[str], bool]) -> list[str]:
    """The stored action names (current and legacy) for which `match(name)` holds."""
    return [name for name in stored_names() if match(name)]


def _agent(event: Any, base_url: str | None) -> dict[str, Any]:
    actor = event.actor
    username = event.actor_label or "system"
    if actor is None and username == "system":
        return {"type": {"coding": [{"system": DICOM, "code": "110150", "display": "Application"}]},
                "who": {"display": "Trigger Point Clinic (the server itself)"}, "requestor": False}
    who: dict[str, Any] = {"identifier": {"system": username_system(base_url), "value": username},
                           "display": (actor.get_full_name() or actor.username) if actor is not None else username}
    if actor is not None and actor.clinic_id and getattr(actor, "public_id", None):
        who["reference"] = f"Practitioner/{actor.public_id}"
    agent: dict[str, Any] = {"who": who, "altId": username, "requestor": True}
    if event.ip:
        agent["network"] = {"address": event.ip, "type": NETWORK_IP}
    return agent


def _entities(event: Any) -> list[dict[str, Any]]:
    entities = []
    if event.patient_id is not None:
        entities.append({"what": patient_reference(event.patient),
                         "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                         "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}})
    details = event.details or {}
    if event.object_type or event.object_id or details:
        entity: dict[str, Any] = {"type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                                  "description": event.object_type or None}
        if event.object_id:
            entity["what"] = {"identifier": {"value": event.object_id}, "display": event.object_type or None}
        if details:
            entity["detail"] = [{"type": "details", "valueString": json.dumps(details, sort_keys=True,
                                                                                ensure_ascii=False, default=str)}]
        entities.append(entity)
    return entities


def to_resource(event: Any, *, base_url: str | None = None) -> dict[str, Any]:
    base = base_or_default(base_url)
    name = current_name(event.action)
    outcome = "4" if name in FAILURES else "0"
    resource = {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "type": type_coding(name, base),
        "subtype": subtype_codings(name, base),
        "action": action_code(name),
        "recorded": instant(event.at),
        "outcome": outcome,
        "outcomeDesc": (f"Refused ({(event.details or {}).get('outcome', 'forbidden')})"
                        if name == "audit.access.refused" else None),
        "agent": [_agent(event, base)],
        "source": {
            "site": base,
            "observer": {"reference": f"Organization/{event.clinic.public_id}",
                         "display": f"Trigger Point Clinic at {event.clinic.name}"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": _entities(event),
    }
    return prune(resource)
