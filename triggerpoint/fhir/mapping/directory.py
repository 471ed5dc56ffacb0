"""Staff accounts → US Core Practitioner, the clinic → US Core Organization (6.1.0).

Pure. These are what the clinical resources point at: `Procedure.performer.actor`,
`Provenance.agent.who`, `Encounter.participant.individual` and `DocumentReference.author` name a
`Practitioner/<user public id>` (`clinical_common.practitioner_reference`); `onBehalfOf`,
`custodian` and `serviceProvider` name `Organization/<clinic public id>`.

We store no NPI, so a practitioner's identifier is their username in this server's system
(`username_system`); US Core asks for a family name, so a user with none gives their username
there (the full text is in `name.text`). A clinic has no "active" flag: it is active while served.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.mapping.clinical_common import US_CORE, base_or_default, prune

PROFILE_PRACTITIONER = US_CORE + "us-core-practitioner"
PROFILE_ORGANIZATION = US_CORE + "us-core-organization"
URI = "urn:ietf:rfc:3986"


def username_system(base_url: str | None = None) -> str:
    """The identifier system of our staff usernames (unique across the deployment)."""
    return f"{base_or_default(base_url)}/NamingSystem/staff-username"


def practitioner_to_fhir(user: Any, *, base_url: str | None = None) -> dict[str, Any]:
    full = (user.get_full_name() or "").strip()
    return prune({
        "resourceType": "Practitioner",
        "id": str(user.public_id),
        "meta": {"profile": [PROFILE_PRACTITIONER]},
        "identifier": [{"system": username_system(base_url), "value": user.username}],
        "active": bool(user.is_active),
        "name": [{"use": "official", "text": full or user.username, "family": user.last_name.strip() or user.username,
                  "given": [user.first_name.strip()] if user.first_name.strip() else []}],
    })


def organization_to_fhir(clinic: Any) -> dict[str, Any]:
    telecom = [{"system": "phone", "value": clinic.phone, "use": "work"}] if clinic.phone else []
    if clinic.after_hours_phone:
        telecom.append({"system": "phone", "value": clinic.after_hours_phone, "use": "work", "rank": 2})
    return prune({
        "resourceType": "Organization",
        "id": str(clinic.public_id),
        "meta": {"profile": [PROFILE_ORGANIZATION]},
        "identifier": [{"system": URI, "value": f"urn:uuid:{clinic.public_id}"}],
        "active": True,
        "name": clinic.name,
        "telecom": telecom,
        "address": [{"use": "work", "text": " ".join(clinic.address.split())}] if clinic.address.strip() else [],
    })
