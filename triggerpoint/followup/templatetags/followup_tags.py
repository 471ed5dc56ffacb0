"""`{% report_problem_button procedure %}`: the "Report a problem" button other pages can show.

For the aftercare plan page and any page about one procedure. In the portal (patient signed
in) it links to the portal report form; on a page opened without login pass the tokenised
link from `followup.report_window.report_problem_url(procedure)` as `report_url`. Shows nothing
once the 14-day report window has closed.
"""

from __future__ import annotations

from django import template

from triggerpoint.followup.report_window import report_window_open

register = template.Library()


@register.inclusion_tag("followup/_report_problem.html")
def report_problem_button(procedure, report_url: str | None = None):
    if procedure is None or procedure.status != "signed" or not report_window_open(procedure):
        return {"procedure": None, "report_url": None}
    return {"procedure": procedure, "report_url": report_url}
