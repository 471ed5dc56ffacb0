"""Named state changes of screenings and consents; each is one transaction with its audit event.

The flow: staff create a screening for a planned procedure (the plan: sites, injectates,
guidance) → the patient answers the questionnaire (link, portal) and the nurse completes it
on the day → the pure rules evaluate it on the chart's facts and the answers → a physician
reviews it, or overrides a `defer`/`contraindicated` result with a reason → a consent is
generated from the plan and signed. `screening_allows_procedure` is the gate the procedure
note calls: it never lets a blocking or unevaluated screening through.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.rules import RuleInputError
from triggerpoint.notifications import services as notifications
from triggerpoint.screening import facts, signals
from triggerpoint.screening.answers import merge_answers, parse_answers
from triggerpoint.screening.consent import ConsentDocument, build_consent
from triggerpoint.screening.content import load_patient_text
from triggerpoint.screening.models import (
    BLOCKING_STATUSES,
    Consent,
    ScreeningRecord,
    ScreeningStatus,
    SignatureKind,
)
from triggerpoint.screening.preparation import Instruction, build_preparation, patient_date
from triggerpoint.screening.rules import (
    RULES,
    Medication,
    PatientFacts,
    evaluate,
    parse_plan,
    parse_screening_request,
)
from triggerpoint.screening.wording import language_of

QUESTIONNAIRE_PURPOSE = "screening.questionnaire"
QUESTIONNAIRE_LINK_VALID_FOR = timedelta(days=7)
ANSWER_SOURCES = ("staff", "patient_link", "portal")
OVERRIDE_REASON_MIN_LENGTH = 10
SIGNATURE_IMAGE_MAX_BYTES = 300_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ScreeningStateError(ValueError):
    """The screening is not in a state that allows this step (shown to the user as is)."""


# ------------------------------------------------------------------ screening records
@transaction.atomic
def create_screening(user, patient, planned_procedure_date: date, plan: dict[str, Any]) -> ScreeningRecord:
    """A screening for one planned procedure; the plan is checked against the atlas and drug catalogue."""
    require(user, "screening.edit", patient)
    parsed = parse_plan(plan)  # RuleInputError lists every unknown muscle, drug or mode
    stored_plan = {
        "sites": [{"muscle": site.muscle, "side": site.side} for site in parsed.sites],
        "injectates": [_stored_injectate(injectate) for injectate in parsed.injectates],
        "guidance": parsed.guidance,
        "technique": parsed.technique,
    }
    if parsed.trigger_points_documented is not None:
        stored_plan["trigger_points_documented"] = parsed.trigger_points_documented
    screening = ScreeningRecord.objects.create(
        clinic=patient.clinic,
        patient=patient,
        planned_procedure_date=planned_procedure_date,
        plan=stored_plan,
    )
    audit.record(
        "screening.screening.created",
        obj=screening,
        details={"planned_procedure_date": planned_procedure_date.isoformat(), "plan": stored_plan},
    )
    signals.screening_created.send(sender=ScreeningRecord, screening=screening)
    return screening


def _stored_injectate(injectate) -> dict[str, Any]:
    """A planned injectate as stored: the drug, and the form (epinephrine, vial) when the plan says it."""
    stored: dict[str, Any] = {"drug": injectate.drug}
    if injectate.with_epinephrine is not None:
        stored["with_epinephrine"] = injectate.with_epinephrine
    if injectate.vial is not None:
        stored["vial"] = injectate.vial
    return stored


def view_screening(user, screening: ScreeningRecord, *, channel: str = "ui") -> ScreeningRecord:
    """Record one read of a screening."""
    audit.record("screening.screening.viewed", obj=screening, details={"channel": channel})
    return screening


@transaction.atomic
def record_answers(
    screening: ScreeningRecord,
    answers: dict[str, Any],
    *,
    source: str,
    user=None,
    expected_version: int | None = None,
) -> ScreeningRecord:
    """Store (part of) the questionnaire and evaluate again.

    `source` is who answered: ``staff`` (needs `screening.edit`), ``portal`` (the patient
    signed in, `screening.answer`) or ``patient_link`` (the caller resolved a valid link for
    this screening). Answers are merged over earlier ones. A changed evaluation clears an
    earlier review and override: they were given for other findings.
    """
    if source not in ANSWER_SOURCES:
        raise ValueError(f"source must be one of {', '.join(ANSWER_SOURCES)}")
    if source == "staff":
        require(user, "screening.edit", screening)
    elif source == "portal":
        require(user, "screening.answer", screening)
    if source != "staff" and (screening.reviewed_at or screening.overridden_at):
        raise ScreeningStateError("Your answers were already reviewed. Please call the clinic to change them.")
    today = timezone.localdate()
    cleaned = parse_answers(answers, screening.planned_procedure_date, today)
    screening.answers = merge_answers(screening.answers or {}, cleaned)
    screening.answers_source = source
    screening.answers_submitted_at = timezone.now()
    screening.save_versioned(
        expected_version if expected_version is not None else screening.version,
        fields=["answers", "answers_source", "answers_submitted_at"],
    )
    audit.record(
        "screening.answers.recorded",
        obj=screening,
        details={"source": source, "answered": sorted(cleaned)},
    )
    return evaluate_screening(screening)


def _finding_record(finding) -> dict[str, Any]:
    rule = RULES[finding.rule]
    return {
        "rule_id": finding.rule,
        "rule_version": finding.version,
        "rule_title": rule.title,
        "severity": finding.severity,
        "message": finding.message,
        "basis": finding.basis,
        "sources": list(rule.sources),
        "data": finding.data,
    }


def _signature_of(findings: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(f["rule_id"], f["severity"], f["message"]) for f in findings]


@transaction.atomic
def evaluate_screening(screening: ScreeningRecord) -> ScreeningRecord:
    """Run the pure rules on the chart's facts and the answers; store findings with rule id and version.

    Missing facts leave the status `pending` with every missing fact listed (never a silent
    `ready`). When a new or changed finding appears, an earlier review or override is cleared.
    """
    screening.refresh_from_db()
    policy = facts.policy_for(screening.clinic)
    request = facts.screening_request(screening, policy)
    previous = _signature_of(screening.findings or [])
    previous_status = screening.status
    try:
        result = evaluate(parse_screening_request(request), policy)
    except RuleInputError as exc:
        screening.status = ScreeningStatus.PENDING
        screening.findings = []
        screening.missing_facts = [{"problem": problem, "hint": facts.hint_for(problem)} for problem in exc.problems]
    else:
        screening.status = result.status
        screening.findings = [_finding_record(finding) for finding in result.findings]
        screening.missing_facts = []
    screening.evaluated_at = timezone.now()
    screening.evaluated_facts = {"request": request, "policy": _policy_snapshot(policy)}
    fields = ["status", "findings", "missing_facts", "evaluated_at", "evaluated_facts"]
    # A sign-off stands while nothing new appears: a finding that went away (say, the
    # temperature was taken and is normal) does not need a second review; a new or
    # changed finding, or a pending result, does.
    added = set(_signature_of(screening.findings)) - set(previous)
    changed = bool(added) or (screening.status != previous_status and screening.status == ScreeningStatus.PENDING)
    cleared = []
    if changed and screening.reviewed_at:
        screening.reviewed_by, screening.reviewed_at, screening.review_note = None, None, ""
        fields += ["reviewed_by", "reviewed_at", "review_note"]
        cleared.append("review")
    if changed and screening.overridden_at:
        screening.overridden_by, screening.overridden_at, screening.override_reason = None, None, ""
        fields += ["overridden_by", "overridden_at", "override_reason"]
        cleared.append("override")
    screening.save_versioned(screening.version, fields=fields)
    audit.record(
        "screening.screening.evaluated",
        obj=screening,
        details={
            "status": screening.status,
            "rules": [[f["rule_id"], f["rule_version"], f["severity"]] for f in screening.findings],
            "missing_facts": len(screening.missing_facts),
            "cleared": cleared,
        },
    )
    return screening


def _policy_snapshot(policy) -> dict[str, Any]:
    return {
        key: (sorted(value) if isinstance(value, frozenset) else str(value) if not isinstance(value, int) else value)
        for key, value in asdict(policy).items()
    }


@transaction.atomic
def review_screening(user, screening: ScreeningRecord, *, note: str = "", expected_version: int) -> ScreeningRecord:
    """A physician's sign-off that the findings were read and the plan stands."""
    require(user, "screening.review", screening)
    if screening.status == ScreeningStatus.PENDING:
        raise ScreeningStateError("This screening has not been evaluated: the missing facts are listed on the page.")
    screening.reviewed_by = user
    screening.reviewed_at = timezone.now()
    screening.review_note = (note or "").strip()
    screening.save_versioned(expected_version, fields=["reviewed_by", "reviewed_at", "review_note"])
    audit.record(
        "screening.screening.reviewed",
        obj=screening,
        details={"status": screening.status, "note": bool(screening.review_note)},
    )
    return screening


@transaction.atomic
def override_screening(user, screening: ScreeningRecord, *, reason: str, expected_version: int) -> ScreeningRecord:
    """A physician lets a `defer` or `contraindicated` screening proceed; the reason is required and audited."""
    require(user, "screening.override", screening)
    reason = (reason or "").strip()
    if len(reason) < OVERRIDE_REASON_MIN_LENGTH:
        raise ScreeningStateError(
            f"An override needs a reason of at least {OVERRIDE_REASON_MIN_LENGTH} characters, in words a colleague can follow."
        )
    if screening.status not in BLOCKING_STATUSES:
        raise ScreeningStateError("Only a deferred or contraindicated screening needs an override.")
    now = timezone.now()
    screening.overridden_by = user
    screening.overridden_at = now
    screening.override_reason = reason
    screening.reviewed_by = user
    screening.reviewed_at = now
    screening.save_versioned(
        expected_version, fields=["overridden_by", "overridden_at", "override_reason", "reviewed_by", "reviewed_at"]
    )
    audit.record(
        "screening.screening.overridden",
        obj=screening,
        details={
            "status": screening.status,
            "reason": reason,
            "overridden_rules": [
                [f["rule_id"], f["rule_version"], f["severity"]]
                for f in screening.findings
                if f["severity"] in BLOCKING_STATUSES
            ],
        },
    )
    return screening


def screening_allows_procedure(screening: ScreeningRecord | None) -> bool:
    """May a procedure start from this screening?

    False when there is none, it was never evaluated (missing facts), or it is `defer` /
    `contraindicated` without a physician override. `review` passes: the findings are shown
    on the procedure note and the physician decides.
    """
    if screening is None or screening.deleted_at is not None:
        return False
    if screening.status == ScreeningStatus.PENDING:
        return False
    if screening.status in BLOCKING_STATUSES:
        return screening.overridden_at is not None
    return True


def screening_needs_review(screening: ScreeningRecord) -> bool:
    """A `review` result nobody has signed off yet: the procedure may start, but a physician should look first."""
    return screening.status == ScreeningStatus.REVIEW and screening.reviewed_at is None


# ------------------------------------------------------------------ the questionnaire link
@transaction.atomic
def send_questionnaire_link(user, screening: ScreeningRecord, *, channel: str = "email"):
    """Send the patient a tokenised, expiring link to this screening's questionnaire (email or SMS)."""
    require(user, "screening.send_link", screening)
    patient = screening.patient
    if channel not in ("email", "sms"):
        raise ValueError("channel must be email or sms")
    to = patient.email if channel == "email" else patient.phone
    if not to:
        raise ScreeningStateError(f"The chart has no {'email address' if channel == 'email' else 'phone number'}.")
    link, raw_token = notifications.issue_link(patient, QUESTIONNAIRE_PURPOSE, screening, QUESTIONNAIRE_LINK_VALID_FOR)
    url = notifications.link_url(reverse("screening:questionnaire_link", args=[raw_token]))
    clinic = patient.clinic
    subject, body = questionnaire_link_message(patient, screening, url, timezone.localtime(link.expires_at).date(),
                                               channel)
    note = notifications.enqueue(
        clinic=clinic,
        kind="screening.questionnaire",
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        idempotency_key=f"screening.questionnaire:{link.pk}",
        patient=patient,
        related=screening,
        link=link,
    )
    audit.record(
        "screening.questionnaire.link_sent",
        obj=screening,
        details={"channel": channel, "link_id": link.pk, "expires_at": link.expires_at.isoformat()},
    )
    return note


def questionnaire_link_message(patient, screening: ScreeningRecord, url: str, expires: date,
                               channel: str) -> tuple[str, str]:
    """The link message's subject and body in the patient's language (words in data/patient_text.yaml)."""
    language = language_of(patient)
    words = load_patient_text().group("messages", language)
    clinic = patient.clinic
    values = {
        "name": patient.given_name, "clinic": clinic.name, "phone": clinic.phone, "url": url,
        "day": patient_date(screening.planned_procedure_date, language), "until": patient_date(expires, language),
    }
    if channel != "email":
        return "", words["sms"].format(**values)
    until = words["email_until_phone" if clinic.phone else "email_until"]
    body = "\n\n".join([
        words["email_greeting"].format(**values),
        words["email_intro"].format(**values),
        url,
        until.format(**values),
        clinic.name,
    ])
    return words["email_subject"].format(**values), body


def preparation_message(patient, screening: ScreeningRecord, url: str, expires: date,
                        channel: str) -> tuple[str, str]:
    """The questionnaire-link message with the preparation instructions written out in it.

    Sent days before a booked procedure (scheduling.patient_messages): the patient reads how to get
    ready without opening anything, and the link leads to the questions. An SMS stays the short
    link message (the instructions are one tap away on the questionnaire page).
    """
    subject, body = questionnaire_link_message(patient, screening, url, expires, channel)
    if channel != "email":
        return subject, body
    language = language_of(patient)
    heading = load_patient_text().group("portal", language)["how_to_get_ready"]
    instructions = "\n".join(f"• {item.text}" for item in preparation_for(screening, language))
    parts = body.split("\n\n")
    parts[-2:-2] = [f"{heading}:\n{instructions}"]  # before "the link works until ..." and the signature
    return subject, "\n\n".join(parts)


def screening_for_link(raw_token: str) -> ScreeningRecord:
    """The one screening a questionnaire link opens; raises `LinkInvalid` for any other use of the token."""
    link = notifications.resolve_link(raw_token, QUESTIONNAIRE_PURPOSE)
    screening = ScreeningRecord.objects.select_related("patient", "clinic").filter(
        public_id=link.target_id, patient_id=link.patient_id
    ).first()
    if screening is None:
        raise notifications.LinkInvalid("This link is not valid.")
    return screening


# ------------------------------------------------------------------ preparation instructions
def preparation_for(screening: ScreeningRecord, language: str = "en") -> tuple[Instruction, ...]:
    """The plain-language preparation instructions for this patient and plan, in `language`."""
    request = facts.screening_request(screening)
    patient = request["patient"]
    patient_facts = PatientFacts(
        age=patient["age"],
        sex=patient["sex"],
        weight_kg=patient["weight_kg"],
        pregnant=bool(patient["pregnant"]),
        allergies=tuple(patient["allergies"]),
        medications=tuple(Medication(m["name"], m["drug_class"]) for m in patient["medications"]),
        conditions=frozenset(patient["conditions"]),
        high_bleeding_risk=patient["high_bleeding_risk"],
    )
    return build_preparation(
        patient_facts,
        parse_plan(screening.plan),
        screening.planned_procedure_date,
        facts.policy_for(screening.clinic),
        language=language,
    )


# ------------------------------------------------------------------ consent
def consent_document_for(screening: ScreeningRecord) -> ConsentDocument:
    """The consent form for the screening's plan, in the patient's language (patients.language)."""
    from triggerpoint.patients.language import page_language

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
    from triggerpoint.screening.content import load_consent_es

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
