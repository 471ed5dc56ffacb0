"""Marking signed notes billed, and taking one back: the only writes billing makes.

Each change names the patient in the audit trail. Marking is idempotent (a note billed twice keeps
its first mark and batch), so a double-clicked button or a retried request never moves a claim
into another batch.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require, scope_to_user
from triggerpoint.audit import services as audit
from triggerpoint.billing.models import BillingHandoff
from triggerpoint.procedures.selectors import signed_procedures


class NothingToBill(ValueError):
    """None of the notes named is a signed note of this clinic that can be billed."""


def new_batch_id() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def mark_billed(user, note_ids: Iterable[str], *, batch: str | None = None) -> list[BillingHandoff]:
    """Mark these signed notes billed in one batch; notes already billed keep their first mark."""
    require(user, "billing.mark")
    ids = set()
    for note_id in note_ids:
        try:
            ids.add(str(uuid.UUID(str(note_id))))
        except ValueError:
            continue  # not a note id at all: it names nothing to bill
    notes = list(scope_to_user(signed_procedures(public_id__in=ids), user, "billing.mark").select_related("patient"))
    if not notes:
        raise NothingToBill("Choose at least one signed note of this clinic.")
    batch = batch or new_batch_id()
    now = timezone.now()
    marked = []
    with transaction.atomic():
        existing = {h.procedure_id: h for h in BillingHandoff.objects.select_for_update().filter(
            procedure__in=notes)}
        for note in notes:
            handoff = existing.get(note.pk)
            if handoff is not None and handoff.is_billed:
                continue
            if handoff is None:
                handoff = BillingHandoff(clinic_id=note.clinic_id, procedure=note)
            handoff.billed_at, handoff.billed_by, handoff.batch, handoff.updated_at = now, user, batch, now
            handoff.save()
            audit.record("billing.note.billed", obj=note, patient=note.patient,
                         details={"batch": batch, "service_date": note.procedure_date.isoformat()})
            marked.append(handoff)
    return marked


def reopen(user, note_id: str, reason: str) -> BillingHandoff:
    """Take a billed note back to "to bill" (a claim to correct), with the reason kept."""
    require(user, "billing.mark")
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Say why the note goes back to billing (for example, a rejected claim).")
    note = scope_to_user(signed_procedures(public_id=note_id), user, "billing.mark").select_related(
        "patient").first()
    handoff = BillingHandoff.objects.filter(procedure=note).first() if note is not None else None
    if handoff is None or not handoff.is_billed:
        raise NothingToBill("This note is not marked billed.")
    with transaction.atomic():
        previous = handoff.batch
        handoff.billed_at, handoff.billed_by, handoff.batch = None, None, ""
        handoff.reopened_reason, handoff.updated_at = reason, timezone.now()
        handoff.save()
        audit.record("billing.note.reopened", obj=note, patient=note.patient,
                     details={"previous_batch": previous, "reason": reason})
    return handoff
