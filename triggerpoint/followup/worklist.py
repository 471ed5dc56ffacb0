"""Follow-up on the clinician worklist: open alerts first, then check-ins that are due or need reading.

Priorities (lower shows first): open and acknowledged-but-unresolved alerts 0; check-ins
due now or overdue 20; answered routine check-ins nobody has read yet 25.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import can
from triggerpoint.audit import services as audit
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.followup import display
from triggerpoint.followup.models import AlertStatus, CallOutcome
from triggerpoint.followup.oncall import on_call_slots, plan_for, schedule_of
from triggerpoint.followup.selectors import checkins_to_review, due_checkins, open_alerts

ALERTS_PRIORITY = 0
DUE_PRIORITY = 20
REVIEW_PRIORITY = 25
LIMIT = 50


def _item(checkin, *, alert=None, plan=None, now=None) -> dict:
    return {
        "alert": alert, "checkin": checkin, "patient": checkin.patient, "zone": checkin.clinic.time_zone,
        "summaries": display.summarise_day(checkin.procedure),
        "answers": display.answer_lines(checkin.answers),
        "reasons": [r for r in (checkin.triage or {}).get("reasons", []) if r.get("severity") != "self_care"],
        "overdue": checkin.is_overdue(now, plan) if plan else False,
    }


def sections(user) -> list[WorklistSection]:
    if not can(user, "followup.view"):
        return []
    clinic, now = user.clinic, timezone.now()
    plan = plan_for(clinic)
    common = {"next_url": reverse("core:worklist"), "outcomes": CallOutcome.choices,
              "can_act": can(user, "followup.triage")}

    alerts = sorted(open_alerts(clinic).select_related("checkin__clinic")[:LIMIT],
                    key=lambda a: (a.status != AlertStatus.OPEN, a.disposition != "emergency", a.raised_at))
    due = list(due_checkins(clinic, now).select_related("clinic").order_by("due_at")[:LIMIT])
    review = list(checkins_to_review(clinic).select_related("clinic").order_by("answered_at")[:LIMIT])
    audit.record("followup.worklist.viewed", clinic=clinic,
                 details={"alerts": len(alerts), "due": len(due), "to_review": len(review)})
    schedule = schedule_of(clinic)
    open_count = sum(1 for a in alerts if a.status == AlertStatus.OPEN)
    result = [WorklistSection(
        title="Follow-up alerts", template="followup/worklist/_alerts.html", priority=ALERTS_PRIORITY,
        count=open_count,
        context={**common, "items": [_item(a.checkin, alert=a) for a in alerts],
                 "on_call_now": on_call_slots(clinic, now),
                 "minutes": schedule.acknowledge_within_minutes if schedule else 15,
                 "can_ack": can(user, "alert.acknowledge"), "can_manage": can(user, "oncall.manage")},
    )]
    result.append(WorklistSection(
        title="Check-ins due", template="followup/worklist/_checkins.html", priority=DUE_PRIORITY, count=len(due),
        context={**common, "items": [_item(c, plan=plan, now=now) for c in due],
                 "empty": "No check-ins waiting for an answer."},
    ))
    if review:
        result.append(WorklistSection(
            title="Check-in answers to read", template="followup/worklist/_checkins.html", priority=REVIEW_PRIORITY,
            count=len(review),
            context={**common, "items": [_item(c) for c in review], "empty": ""},
        ))
    return result
