"""Signing a procedure note: the completeness, dose, payer-repeat, screening and consent gates.

`sign_procedure` stores the dose check and the codes as shown, then sends `procedure_signed`
inside its transaction so aftercare, follow-up and outcomes rows commit with the signature.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import can, require
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import surviving_chart
from triggerpoint.procedures import dosing
from triggerpoint.procedures.draft import completeness_problems
from triggerpoint.procedures.drafting import default_links, locked_for_update, refuse_if_signed
from triggerpoint.procedures.models import Guidance, Procedure, ProcedureStatus
from triggerpoint.procedures.note_reads import (
    clinic_today,
    live_checks,
    note_document,
    parse_document,
    prior_dose_history,
    session_history,
)
from triggerpoint.procedures.signals import procedure_signed
from triggerpoint.screening import services as screening_services


class SigningBlocked(RuleInputError):
    """The note cannot be signed yet; `problems` says every reason (422 on the API)."""


def screening_allows(screening) -> bool:
    """The screening app decides (`screening.services.screening_allows_procedure`); there is no fallback."""
    return bool(screening_services.screening_allows_procedure(screening))


@transaction.atomic
def sign_procedure(
    user,
    procedure: Procedure,
    expected_version: int,
    *,
    dose_override_reason: str = "",
    screening_override_reason: str = "",
    repeat_override_reason: str = "",
) -> Procedure:
    """Sign the note: complete, with billable diagnosis codes, within the dose limits (or overridden by a
    physician with a reason), within the payer's repeat interval and 12-month count (or overridden),
    cleared by screening (or overridden), with a signed consent if one is linked.

    Stores the dose check and the codes as shown, then sends `procedure_signed` inside
    this transaction so aftercare, follow-up and outcomes rows commit with the signature.
    """
    require(user, "procedure.sign", procedure)
    current = locked_for_update(procedure)
    refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    note = parse_document(note_document(current))
    problems = completeness_problems(note)
    on = current.procedure_date
    if on > clinic_today(current.clinic):
        problems.append("a note cannot be signed before the procedure date")

    history = session_history(current, note)
    checks = live_checks(current.patient, note, history=history, dose_history=prior_dose_history(current, note))
    if note.sites and checks.codes_problems:
        problems.extend(checks.codes_problems)
    problems.extend(checks.diagnosis_problems)
    dose_override_reason = (dose_override_reason or "").strip()
    screening_override_reason = (screening_override_reason or "").strip()
    repeat_override_reason = (repeat_override_reason or "").strip()
    dose_overridden = False
    if checks.dose is not None and checks.dose.blocks_signing:
        blocking = [f.message for f in checks.dose.findings if f.severity in dosing.SIGNING_SEVERITIES]
        if not dose_override_reason:
            problems.append("dose check: " + " ".join(blocking) + " A physician may override with a reason.")
        elif not can(user, "procedure.override_dose", current):
            problems.append("dose check: only a physician may override the dose check")
        else:
            dose_overridden = True
    repeat_overridden = False
    if checks.repeat_findings:
        messages = " ".join(f.message for f in checks.repeat_findings)
        if not repeat_override_reason:
            problems.append(
                f"repeat injection: {messages} A physician may override with a reason (e.g. the medical necessity)."
            )
        elif not can(user, "procedure.override_dose", current):
            problems.append("repeat injection: only a physician may override the payer's repeat limits")
        else:
            repeat_overridden = True

    screening = current.screening
    if screening is None:
        screening = default_links(current.patient, on)["screening"]
        if screening is not None:
            current.screening = screening
    screening_overridden = False
    if screening is not None and not screening_allows(screening):
        if not screening_override_reason:
            problems.append(
                f"screening status is {screening.status}: the procedure should not go ahead. "
                "A physician may override with a reason."
            )
        elif not can(user, "screening.override", current):
            problems.append("screening: only a physician may override a deferral or contraindication")
        else:
            screening_overridden = True
    if current.consent is not None and not current.consent.is_signed:
        problems.append("the linked consent is not signed")
    if current.guidance != Guidance.ULTRASOUND and current.images.exists():
        problems.append(
            "ultrasound images are attached but the note records landmark guidance: "
            "set guidance to ultrasound or remove the images"
        )
    if problems:
        raise SigningBlocked(problems)

    now = timezone.now()
    current.status = ProcedureStatus.SIGNED
    current.signed_at = now
    current.signed_by = user
    current.performed_at = current.performed_at or now
    current.weight_kg_used = surviving_chart(current.patient).weight_kg  # the weight the dose check used
    current.dose_check = checks.dose.as_dict() if checks.dose else None
    current.codes = checks.codes.as_dict() if checks.codes else None
    current.dose_override_reason = dose_override_reason if dose_overridden else ""
    current.screening_override_reason = screening_override_reason if screening_overridden else ""
    current.repeat_override_reason = repeat_override_reason if repeat_overridden else ""
    current.save_versioned(
        expected_version,
        fields=[
            "status",
            "signed_at",
            "signed_by",
            "performed_at",
            "weight_kg_used",
            "dose_check",
            "codes",
            "dose_override_reason",
            "screening_override_reason",
            "repeat_override_reason",
            "screening",
        ],
    )
    if dose_overridden:
        audit.record(
            "procedures.procedure.dose_overridden",
            obj=current,
            details={
                "reason": dose_override_reason,
                "findings": [
                    f.as_dict() for f in checks.dose.findings if f.severity in dosing.SIGNING_SEVERITIES
                ],
            },
        )
    if repeat_overridden:
        audit.record(
            "procedures.procedure.repeat_overridden",
            obj=current,
            details={"reason": repeat_override_reason, "findings": [f.as_dict() for f in checks.repeat_findings]},
        )
    if screening_overridden:
        audit.record(
            "procedures.procedure.screening_overridden",
            obj=current,
            details={"reason": screening_override_reason, "screening_status": screening.status},
        )
    audit.record(
        "procedures.procedure.signed",
        obj=current,
        details={
            "version": current.version,
            "sites": len(note.sites),
            "cpt": [line["code"] for line in (current.codes or {}).get("cpt", [])],
            "dose_ok": checks.dose.ok if checks.dose else None,
        },
    )
    procedure_signed.send(sender=Procedure, procedure=current)
    return current
