"""The report window: how long after a procedure a patient may report a problem online, and the link to do so.

Day 14 by default (the clinic's plan), 12 weeks after botulinum toxin (`report_window_days`).
Check-ins offer the link in their invitations; the portal, the aftercare page and the
`report_problem_button` tag ask whether the window is open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from triggerpoint.followup.oncall import plan_for
from triggerpoint.followup.schedule import CheckInPlan, report_window_closes
from triggerpoint.followup.schedule import report_window_open as _window_open
from triggerpoint.followup.toxin import day_included_toxin, procedures_of_day
from triggerpoint.followup.windows import load_windows
from triggerpoint.notifications.services import extend_links, issue_link, link_url
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures.selectors import signed_procedures

REPORT_PURPOSE = "followup.report"


def report_window_days(procedure) -> int:
    """How many days after this procedure the patient may report a problem online.

    The clinic's window (14 days by default) — but after botulinum toxin the warning signs of
    toxin spread (drooping eyelid, double vision, trouble swallowing, speaking or breathing) are
    acted on for the whole `toxin_spread` warning window (12 weeks, warning_windows.yaml, rule
    TRI-TOXIN-SPREAD), so the patient can report them online for as long. A procedure whose drugs
    cannot all be identified counts as possibly toxin, the safe reading (followup.toxin). The notes
    of one patient's day are one episode: toxin in a second note of the day opens the long window
    for reports about either note.
    """
    days = plan_for(procedure.clinic).report_window_days
    if day_included_toxin(procedure) is not False:
        days = max(days, load_windows().days("toxin_spread"))
    return days


def _report_plan(procedure) -> CheckInPlan:
    return replace(plan_for(procedure.clinic), report_window_days=report_window_days(procedure))


def report_problem_url(procedure, now: datetime | None = None) -> str | None:
    """An absolute, tokenised link with which the patient can report a problem about this procedure.

    Valid until the end of the report window (`report_window_days`: day 14, or 12 weeks after
    botulinum toxin); None once the window has closed. For the aftercare contributor and any
    message that wants a "tell us about a problem" link. Each call issues a new link row, so
    call it when composing a message, not per view.
    """
    now = now or timezone.now()
    closes = report_window_closes(procedure.procedure_date, procedure.clinic.zone, _report_plan(procedure))
    if closes <= now:
        return None
    _link, raw = issue_link(procedure.patient, REPORT_PURPOSE, procedure, valid_for=closes - now)
    return link_url(reverse("followup:report_link", args=[raw]))


def report_window_open(procedure, now: datetime | None = None) -> bool:
    """True from the procedure day through its last report day (`report_window_days`; the clinic's local calendar)."""
    return _window_open(procedure.procedure_date, procedure.clinic.zone, now or timezone.now(), _report_plan(procedure))


def procedures_open_for_report(patient, now: datetime | None = None) -> list:
    """Signed procedures of this patient still inside the report window, newest first."""
    now = now or timezone.now()
    longest = max(plan_for(patient.clinic).report_window_days, load_windows().days("toxin_spread"))
    earliest = now.date() - timedelta(days=longest + 1)
    candidates = signed_procedures(patient_id__in=chart_ids(patient), procedure_date__gte=earliest)
    return [p for p in candidates.order_by("-procedure_date") if report_window_open(p, now)]


def extend_report_links(procedure, now: datetime | None = None) -> int:
    """Keep the report links already sent for the notes of this note's day open until the day's window closes.

    A second note of the day with toxin lengthens the window to 12 weeks; the links in the
    check-in messages already sent were issued for the first note's 14 days. Only lengthens,
    never shortens, and never revives a revoked link. Returns how many links were extended.
    """
    now = now or timezone.now()
    closes = report_window_closes(procedure.procedure_date, procedure.clinic.zone, _report_plan(procedure))
    targets = [str(note.public_id) for note in procedures_of_day(procedure)]
    return extend_links(procedure.patient_id, REPORT_PURPOSE, targets, closes, now)
