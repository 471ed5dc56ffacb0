"""SMART system scopes: which ones we accept, what they grant, and the grant of a request.

Pure functions (no ORM, no HTTP), shared by the client registration, the token endpoint and
`SmartGrant.allows`.

Accepted (read only: the FHIR API serves reads and searches, nothing else yet):
- SMART v1: ``system/Patient.read``, ``system/*.read`` — read and search;
- SMART v2: ``system/Patient.rs``, ``system/*.rs``, and the subsets ``.r`` (read) and ``.s`` (search).
Refused, with the reason: user/patient scopes (a backend client acts for nobody), write
permissions (``.write``, ``.*``, any of ``c``/``u``/``d``), v2 query constraints
(``system/Observation.rs?category=…``), and resource types the server does not know.

A granted scope keeps the syntax it was asked in; a v1 request cut down by a v2 registration
to one permission comes back in v2 form (``system/Patient.r``), since v1 cannot say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The resource types the FHIR server (triggerpoint/fhir, issue 18) serves. A scope naming another
# type is refused at registration and at the token endpoint rather than granted for nothing.
RESOURCE_TYPES: tuple[str, ...] = (
    "AllergyIntolerance", "AuditEvent", "BodyStructure", "CarePlan", "Condition", "Consent", "DetectedIssue",
    "DocumentReference", "Encounter", "Flag", "MedicationAdministration", "Observation", "Patient", "Procedure",
    "Provenance", "Questionnaire", "QuestionnaireResponse",
)

# interaction (FHIR's names) -> the SMART v2 permission letter it needs
INTERACTIONS: dict[str, str] = {
    "read": "r", "vread": "r", "history-instance": "r",
    "search": "s", "search-type": "s", "search-system": "s", "history-type": "s",
}
WRITE_INTERACTIONS = frozenset({"create", "update", "patch", "delete", "conditional-update", "conditional-delete"})

V1_READ = frozenset("rs")
_SCOPE = re.compile(r"^(?P<context>[A-Za-z]+)/(?P<type>\*|[A-Za-z]+)\.(?P<perm>[A-Za-z*]+)(?P<query>\?.*)?$")
_V2_PERMS = re.compile(r"^c?r?u?d?s?$")
MAX_SCOPES = 50


class ScopeError(ValueError):
    """A scope we cannot grant; the message names it and says why."""


@dataclass(frozen=True)
class Scope:
    resource_type: str  # a type, or "*"
    permissions: frozenset[str]  # subset of {"r", "s"}
    v1: bool  # asked as ".read"

    def covers(self, resource_type: str, letter: str) -> bool:
        return self.resource_type in ("*", resource_type) and letter in self.permissions

    def text(self) -> str:
        if self.v1 and self.permissions == V1_READ:
            return f"system/{self.resource_type}.read"
        return f"system/{self.resource_type}.{''.join(p for p in 'rs' if p in self.permissions)}"


def parse_scope(text: str) -> Scope:
    match = _SCOPE.match(text)
    if match is None:
        raise ScopeError(f"{text[:80]!r} is not a SMART scope (for example system/Patient.read).")
    if match["context"] != "system":
        raise ScopeError(f"{text!r}: a backend service client may only ask for system/ scopes.")
    if match["query"]:
        raise ScopeError(f"{text!r}: scopes with search constraints are not supported.")
    rtype, perm = match["type"], match["perm"]
    if rtype != "*" and rtype not in RESOURCE_TYPES:
        raise ScopeError(f"{text!r}: this server has no resource type {rtype}.")
    if perm == "read":
        return Scope(rtype, V1_READ, v1=True)
    if perm in ("write", "*") or (_V2_PERMS.match(perm) and set(perm) & set("cud")):
        raise ScopeError(f"{text!r}: only read access is offered (write scopes are refused).")
    if not _V2_PERMS.match(perm):
        raise ScopeError(f"{text!r}: {perm!r} is not a SMART permission (read, or v2 r, s, rs).")
    return Scope(rtype, frozenset(perm), v1=False)


def parse_scopes(text: str) -> list[Scope]:
    """Every scope of a space-separated string, or ScopeError for the first one we cannot grant."""
    words = text.split()
    if len(words) > MAX_SCOPES:
        raise ScopeError(f"At most {MAX_SCOPES} scopes may be asked for at once.")
    return [parse_scope(word) for word in words]


def meet(asked: Scope, allowed: Scope) -> Scope | None:
    """What of `asked` the registration `allowed` grants, or None."""
    if allowed.resource_type == "*":
        rtype = asked.resource_type
    elif asked.resource_type in ("*", allowed.resource_type):
        rtype = allowed.resource_type
    else:
        return None
    permissions = asked.permissions & allowed.permissions
    if not permissions:
        return None
    return Scope(rtype, permissions, v1=asked.v1)


def grant(asked: list[Scope], allowed: list[Scope]) -> list[str]:
    """The granted scopes (requested ∩ allowed), as sorted unique strings."""
    granted = {m.text() for a in asked for b in allowed if (m := meet(a, b)) is not None}
    return sorted(granted)


def allows(scopes: list[Scope], resource_type: str, interaction: str = "read") -> bool:
    """Whether these scopes cover `interaction` on `resource_type` (writes: never)."""
    if interaction in WRITE_INTERACTIONS:
        return False
    letter = INTERACTIONS.get(interaction)
    if letter is None:
        raise ValueError(f"Unknown FHIR interaction {interaction!r}")
    return any(scope.covers(resource_type, letter) for scope in scopes)


def supported() -> list[str]:
    """scopes_supported for /.well-known/smart-configuration."""
    types = ("*", *RESOURCE_TYPES)
    return [f"system/{t}.read" for t in types] + [f"system/{t}.rs" for t in types]
