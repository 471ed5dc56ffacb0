"""The consent record: generated from the screening's plan, signed once (drawn or at the desk), then immutable.

The wording (``consent.build_consent``, ``data/consent_risks.yaml``, ``data/consent_es.yaml``) is
built elsewhere; here are the record's steps, each one transaction with its audit event.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.language import page_language
from triggerpoint.screening.consent import ConsentDocument, build_consent
from triggerpoint.screening.content import load_consent_es
from triggerpoint.screening.models import Consent, ScreeningRecord, SignatureKind
from triggerpoint.screening.rules import parse_plan

SIGNATURE_IMAGE_MAX_BYTES = 300_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def consent_document_for(screening: ScreeningRecord) -> ConsentDocument:
    """The consent form for the screening's plan, in the patient's language (patients.language)."""
    return build_consent(parse_plan(screening.plan), load_atlas(), load_drugs(), page_language(screening.patient))


SIDE_WORDS = {"left": "left", "right": "right"}


def consent_text(document: ConsentDocument, patient) -> str:
    """The consent as plain text: what the patient read and signed, stored with the signature."""
    if document.language == "es":
        return _consent_text_es(document, patient)
    sites = "; ".join(f"{site.muscle_name} ({SIDE_WORDS[site.side]})" for site in document.sites)
    medicines = ", ".join(document.injectates) if document.injectates else "no medicine (dry needling)"
    lines = [
        f"Consent to {document.procedure.lower()}",
        f"Patient: {patient.full_name}, born {patient.date_of_birth.isoformat()}",
        f"Procedure: {document.procedure}",
        f"Muscles and sides: {sites}",
        f"Medicines: {medicines}",
        f"Guidance: {document.guidance_text}",
        "Risks:",
        *(f"- {risk.title}: {risk.plain_text}" for risk in document.risks),
        f"Consent wording version {document.version}",
    ]
    return "\n".join(lines)


def _consent_text_es(document: ConsentDocument, patient) -> str:
    words = load_consent_es()
    labels = words.labels
    sites = "; ".join(f"{site.muscle_name} ({words.sides[site.side]})" for site in document.sites)
    medicines = ", ".join(document.injectates) if document.injectates else labels["no_medicine_short"]
    lines = [
        labels["title"].format(procedure=document.procedure.lower()),
        f"{labels['patient']}: {patient.full_name}, {labels['born']} {patient.date_of_birth.isoformat()}",
        f"{labels['procedure']}: {document.procedure}",
        f"{labels['muscles_and_sides']}: {sites}",
        f"{labels['medicines']}: {medicines}",
        f"{labels['guidance']}: {document.guidance_text}",
        f"{labels['risks']}:",
        *(f"- {risk.title}: {risk.plain_text}" for risk in document.risks),
        labels["version"].format(version=document.version).rstrip("."),
    ]
    return "\n".join(lines)


def _document_dict(document: ConsentDocument) -> dict[str, Any]:
    """The document as it is stored (JSON types), so a stored form compares equal to a fresh one."""
    data = asdict(document)
    data["risk_ids"] = list(document.risk_ids())
    return json.loads(json.dumps(data))


@transaction.atomic
def generate_consent(user, screening: ScreeningRecord) -> Consent:
    """The consent form for the screening's plan; replaces an earlier unsigned form for the same screening."""
    require(user, "consent.sign", screening)
    document = consent_document_for(screening)
    data = _document_dict(document)
    version = f"consent-risks-v{document.version}"
    open_forms = list(Consent.objects.filter(screening=screening, signed_at__isnull=True))
    for form in open_forms:
        if form.document == data and form.document_version == version:
            return form
    for form in open_forms:
        form.soft_delete()
    consent = Consent.objects.create(
        clinic=screening.clinic,
        patient=screening.patient,
        screening=screening,
        document=data,
        document_text=consent_text(document, screening.patient),
        document_version=version,
    )
    audit.record(
        "screening.consent.generated",
        obj=consent,
        details={"screening": str(screening.public_id), "version": version, "risks": data["risk_ids"]},
    )
    return consent


def _validate_signature_image(data_url: str) -> str:
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise RuleInputError("signature_image must be a PNG data URL (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RuleInputError("signature_image is not valid base64") from exc
    if not raw.startswith(PNG_MAGIC):
        raise RuleInputError("signature_image is not a PNG image")
    if len(raw) > SIGNATURE_IMAGE_MAX_BYTES:
        raise RuleInputError(f"signature_image is larger than {SIGNATURE_IMAGE_MAX_BYTES // 1000} kB")
    return data_url


@transaction.atomic
def sign_consent(
    user,
    consent: Consent,
    *,
    signer_name: str,
    signature_kind: str,
    signature_image: str = "",
    acknowledged: bool = False,
    witness_name: str = "",
    signer_relationship: str = "self",
    expected_version: int,
) -> Consent:
    """Record the patient's signature (drawn, or a checkbox at the desk); the consent is immutable afterwards."""
    require(user, "consent.sign", consent)
    if consent.is_signed:
        raise ImmutableRecord("This consent is already signed; generate a new consent for a changed plan.")
    problems = []
    signer_name = (signer_name or "").strip()
    if len(signer_name) < 2:
        problems.append("signer_name: type the full name of the person signing")
    if signature_kind not in SignatureKind.values:
        problems.append(f"signature_kind must be one of {', '.join(SignatureKind.values)}")
    if not acknowledged:
        problems.append("acknowledged: the patient must tick the box confirming they read and agree to the form")
    if signature_kind == SignatureKind.DRAWN:
        if not signature_image:
            problems.append("signature_image: draw the signature in the box")
        else:
            try:
                _validate_signature_image(signature_image)
            except RuleInputError as exc:
                problems.extend(exc.problems)
    if problems:
        raise RuleInputError(problems)
    consent.signer_name = signer_name
    consent.signer_relationship = (signer_relationship or "self").strip()[:60]
    consent.signature_kind = signature_kind
    consent.signature_image = signature_image if signature_kind == SignatureKind.DRAWN else ""
    consent.witness_name = (witness_name or "").strip()[:200]
    consent.signed_recorded_by = user
    consent.signed_at = timezone.now()
    consent.save_versioned(
        expected_version,
        fields=[
            "signer_name",
            "signer_relationship",
            "signature_kind",
            "signature_image",
            "witness_name",
            "signed_recorded_by",
            "signed_at",
        ],
    )
    audit.record(
        "screening.consent.signed",
        obj=consent,
        details={
            "signature_kind": signature_kind,
            "witnessed": bool(consent.witness_name),
            "version": consent.document_version,
            "screening": str(consent.screening.public_id),
        },
    )
    return consent


def view_consent(user, consent: Consent, *, channel: str = "ui") -> Consent:
    audit.record("screening.consent.viewed", obj=consent, details={"channel": channel})
    return consent
