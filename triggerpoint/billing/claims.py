"""Which signed notes the coder sees: the filter from the page's query string, and the claims it selects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from triggerpoint.accounts.policy import scope_to_user
from triggerpoint.billing.lines import NoteClaim, SignedNote, claim_for
from triggerpoint.procedures.selectors import signed_procedures

STATUSES = {"to_bill": "To bill", "billed": "Billed", "all": "All signed notes"}


@dataclass
class ClaimFilter:
    status: str = "to_bill"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query) -> ClaimFilter:
        f = cls()
        status = (query.get("status") or "to_bill").strip()
        if status in STATUSES:
            f.status = status
        else:
            f.errors.append(f"Unknown status {status!r}; showing notes to bill.")
        for key, attr in (("from", "date_from"), ("to", "date_to")):
            raw = (query.get(key) or "").strip()
            if not raw:
                continue
            try:
                setattr(f, attr, dt.date.fromisoformat(raw))
            except ValueError:
                f.errors.append(f"{key} must be a date like 2026-12-01; ignored.")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors.append("The start date is after the end date; no notes can match.")
        return f

    def as_query(self) -> dict[str, str]:
        values = {"status": self.status, "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}

    def notes(self, user):
        """Signed notes of the user's clinic matching the filter, oldest service date first (bill in order)."""
        notes = scope_to_user(signed_procedures(), user, "billing.view").select_related(
            "patient", "performed_by", "billing_handoff")
        if self.status == "to_bill":
            notes = notes.exclude(billing_handoff__billed_at__isnull=False)
        elif self.status == "billed":
            notes = notes.filter(billing_handoff__billed_at__isnull=False)
        if self.date_from:
            notes = notes.filter(procedure_date__gte=self.date_from)
        if self.date_to:
            notes = notes.filter(procedure_date__lte=self.date_to)
        return notes.order_by("procedure_date", "signed_at", "pk")


def _clinician(user) -> str:
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.username


def claim_of(note) -> NoteClaim:
    patient = note.patient
    return claim_for(SignedNote(
        note_id=str(note.public_id), service_date=note.procedure_date, mrn=patient.mrn,
        family_name=patient.family_name, given_name=patient.given_name, date_of_birth=patient.date_of_birth,
        payer=note.payer or "", rendering_clinician=_clinician(note.performed_by),
        diagnosis_codes=tuple(note.diagnosis_codes or ()), codes=note.codes,
    ))
