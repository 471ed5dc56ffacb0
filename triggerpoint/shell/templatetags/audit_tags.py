"""`{% who_opened_url patient %}`: the audit log filtered to one patient, for users who may read the log."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from triggerpoint.accounts.policy import can

register = template.Library()


@register.simple_tag(takes_context=True)
def who_opened_url(context, patient) -> str:
    """The log URL for this patient's events, or "" when the user may not read the audit log."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or patient is None or not can(user, "audit.view", patient):
        return ""
    query = urlencode({"patient_id": str(patient.public_id), "action": "patients.patient.viewed"})
    return f"{reverse('audit:log')}?{query}"
