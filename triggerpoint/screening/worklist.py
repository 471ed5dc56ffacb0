"""The worklist section: screenings that need a clinician before the procedure can go ahead."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from triggerpoint.accounts.policy import can, scope_to_user
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.screening.models import ScreeningRecord, ScreeningStatus

NEEDS_REVIEW = (ScreeningStatus.REVIEW, ScreeningStatus.DEFER, ScreeningStatus.CONTRAINDICATED)
SEVERITY_ORDER = {"contraindicated": 0, "defer": 1, "review": 2, "pending": 3}


def screenings_needing_attention(user):
    """Upcoming screenings not yet signed off: review-or-worse findings, or answers that left facts missing."""
    today = timezone.localdate()
    return (
        scope_to_user(ScreeningRecord.objects.select_related("patient"), user, "screening.view")
        .filter(planned_procedure_date__gte=today - timedelta(days=1))
        .filter(reviewed_at__isnull=True, overridden_at__isnull=True)
        .filter(Q(status__in=NEEDS_REVIEW) | Q(status=ScreeningStatus.PENDING, answers_submitted_at__isnull=False))
    )


def sections(user) -> list[WorklistSection]:
    if not can(user, "screening.view"):
        return []
    rows = sorted(
        screenings_needing_attention(user)[:100],
        key=lambda s: (s.planned_procedure_date, SEVERITY_ORDER.get(s.status, 9)),
    )
    return [
        WorklistSection(
            title="Screenings needing review",
            template="screening/_worklist.html",
            priority=20,
            context={"screenings": rows[:25], "more": max(len(rows) - 25, 0)},
            count=len(rows),
        )
    ]
