"""The patient's portal: their current aftercare plans, today's progress, and the reminder opt-out."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from triggerpoint.accounts.policy import can
from triggerpoint.aftercare import plan_pages, services
from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.patients.selectors import chart_ids

SHOWN_PLANS = 3


def sections(user) -> list[WorklistSection]:
    patient = user.portal_patient
    if patient is None or not can(user, "aftercare.view", patient):
        return []
    plans = list(AftercarePlan.objects.filter(patient_id__in=chart_ids(patient)).select_related("clinic", "patient")[:SHOWN_PLANS])
    if not plans:
        return []
    items = []
    for plan in plans:
        view = plan_pages.plan_view(plan)
        items.append(
            {
                "plan": plan,
                "today": view.today_view,
                "finished": view.finished,
                "url": reverse("aftercare:plan", args=[patient.public_id, plan.public_id]),
            }
        )
    language = patient.preferred_language
    with translation.override(language):
        title = _("Your aftercare plan")
    return [
        WorklistSection(
            title=title,
            template="aftercare/_portal_section.html",
            priority=20,
            context={
                "plans": items,
                "lang": language,
                "stopped": services.reminders_stopped(patient),
                "stop_url": reverse("aftercare:plan_stop_reminders", args=[patient.public_id, plans[0].public_id]),
            },
            count=len(items),
        )
    ]
