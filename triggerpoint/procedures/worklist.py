"""The worklist section: procedure notes still in draft (a procedure done but not yet signed)."""

from __future__ import annotations

from django.utils import timezone

from triggerpoint.accounts.policy import can, scope_to_user
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.procedures.models import Procedure, ProcedureStatus
from triggerpoint.screening.selectors import screened_for_day


def sections(user) -> list[WorklistSection]:
    if not can(user, "procedure.view"):
        return []
    drafts = (
        scope_to_user(Procedure.objects.select_related("patient", "performed_by"), user, "procedure.view")
        .filter(status=ProcedureStatus.DRAFT)
        .order_by("procedure_date", "created_at")
    )
    rows = list(drafts[:26])
    return [
        *_ready_today(user),
        WorklistSection(
            title="Procedure notes to finish and sign",
            template="procedures/_worklist.html",
            priority=30,
            context={"drafts": rows[:25], "more": len(rows) > 25, "can_sign": can(user, "procedure.sign")},
            count=drafts.count(),
        )
    ]


def _ready_today(user) -> list[WorklistSection]:
    """Patients screened for a procedure today who have no note yet: one click starts it."""
    if not can(user, "procedure.edit"):
        return []

    today = timezone.localdate(timezone=user.clinic.zone)
    rows = screened_for_day(
        user, today, without_patients=Procedure.objects.filter(procedure_date=today).values("patient_id")
    )
    if not rows:
        return []
    return [
        WorklistSection(
            title="Procedures today: start the note",
            template="procedures/_worklist_today.html",
            priority=25,
            context={"screenings": rows},
            count=len(rows),
        )
    ]
