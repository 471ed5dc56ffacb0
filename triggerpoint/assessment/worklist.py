"""The worklist section: assessment visits still in draft (a physician's signature is the next step)."""

from __future__ import annotations

from triggerpoint.accounts.policy import can, scope_to_user
from triggerpoint.assessment.models import Visit, VisitStatus
from triggerpoint.core.worklist import WorklistSection


def sections(user) -> list[WorklistSection]:
    if not can(user, "assessment.view"):
        return []
    drafts = (
        scope_to_user(Visit.objects.filter(status=VisitStatus.DRAFT), user, "assessment.view")
        .select_related("patient", "clinician")
        .order_by("visit_date", "created_at")
    )
    rows = list(drafts[:26])
    if not rows:
        return []
    return [
        WorklistSection(
            title="Assessment visits to finish and sign",
            template="assessment/_worklist.html",
            priority=40,
            context={"visits": rows[:25], "more": len(rows) > 25, "can_sign": can(user, "assessment.sign")},
            count=drafts.count(),
        )
    ]
