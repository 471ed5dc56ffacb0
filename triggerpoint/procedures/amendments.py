"""Amending a signed procedure note: append-only corrections shown with the original."""

from __future__ import annotations

from django.db import transaction

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures.drafting import locked_for_update
from triggerpoint.procedures.models import Amendment, Procedure, ProcedureStatus


@transaction.atomic
def amend_procedure(user, procedure: Procedure, *, reason: str, text: str) -> Amendment:
    """Append a correction to a signed note (the original stays as signed)."""
    require(user, "procedure.amend", procedure)
    reason, text = (reason or "").strip(), (text or "").strip()
    problems = []
    if not reason:
        problems.append("give the reason for the amendment")
    if not text:
        problems.append("write the correction")
    if problems:
        raise RuleInputError(problems)
    current = locked_for_update(procedure)
    if current.status != ProcedureStatus.SIGNED:
        raise RuleInputError("only a signed note is amended; edit the draft instead")
    amendment = Amendment(procedure=current, author=user, reason=reason, text=text)
    amendment.save()
    audit.record(
        "procedures.procedure.amended",
        obj=current,
        details={"amendment": str(amendment.public_id), "reason": reason},
    )
    return amendment
