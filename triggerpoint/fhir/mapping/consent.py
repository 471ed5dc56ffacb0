"""Consent: the patient's signed consent to the trigger point procedure, with its PDF (base R4).

Registration (see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[Consent]`` - signed consents (``PATIENT_FIELD`` ``patient_id``,
  ``CLINIC_FIELD`` ``clinic_id``, ``patient`` search on ``patient__public_id``);
* ``to_resource(consent, *, base_url=None) -> dict`` - id = the consent's public id; ``patient_of``,
  ``filter_ids``, ``get``, ``resources_for_patient``.

US Core 6.1.0 has no Consent profile. Scope ``treatment`` (consent-scope), category LOINC 59284-0
"Consent Document" (README's checked LOINC code), ``dateTime`` the signing time, the signer as
performer (the patient, or the named representative with the relationship recorded),
``sourceAttachment`` the consent's PDF as a FHIR ``Binary`` under the same base
(``Binary/consent-<consent public id>``, ``fhir/binary.py``: read with the same token, authorized
and audited like the Consent). R4 needs a policy or
policy rule (ppc-1): ``policyRule`` is v3 ActCode OPTIN (the patient agreed); the form's version is in
the attachment's title. ``provision`` permits the planned procedure for the screening it was signed for.
"""

from __future__ import annotations

import sys
from typing import Any

from triggerpoint.fhir.mapping.clinical_common import (
    LOINC,
    base_or_default,
    first_by_id,
    for_patients,
    instant,
    organization_reference,
    patient_reference,
    prune,
    uuids,
)
from triggerpoint.screening import selectors as screening_selectors

SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment",
                     "display": "Treatment"}], "text": "Consent to treatment"}
CATEGORY = {"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}], "text": "Consent document"}
OPT_IN = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN", "display": "opt-in"}]}


PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "patient_id", "clinic_id", "patient__public_id"


def records(**filters):
    return screening_selectors.signed_consents(**filters)


def patient_of(consent):
    return consent.patient


def filter_ids(queryset, ids):
    return queryset.filter(public_id__in=uuids(ids))


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


BINARY_PREFIX = "consent-"


def binary_id(consent) -> str:
    """The id of the consent's PDF as a FHIR Binary."""
    return f"{BINARY_PREFIX}{consent.public_id}"


def to_resource(consent, *, base_url: str | None = None) -> dict[str, Any]:
    url = f"{base_or_default(base_url)}/Binary/{binary_id(consent)}"
    document = consent.document or {}
    title = f'{document.get("title") or "Consent to trigger point injection"} (form {consent.document_version})'
    relationship = (consent.signer_relationship or "self").strip()
    signer = patient_reference(consent.patient)
    if relationship.lower() != "self" and consent.signer_name:
        signer = {"display": f"{consent.signer_name} ({relationship})"}
    resource = {
        "resourceType": "Consent",
        "id": str(consent.public_id),
        "status": "active",
        "scope": SCOPE,
        "category": [CATEGORY],
        "patient": patient_reference(consent.patient),
        "dateTime": instant(consent.signed_at),
        "performer": [signer],
        "organization": [organization_reference(consent.clinic)],
        "sourceAttachment": {"contentType": "application/pdf", "url": url, "title": title,
                             "creation": instant(consent.signed_at)},
        "policyRule": OPT_IN,
        "provision": {
            "type": "permit",
            "period": {"start": consent.screening.planned_procedure_date.isoformat()},
        },
    }
    return prune(resource)
