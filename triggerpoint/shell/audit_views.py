from django.core.paginator import Paginator
from django.shortcuts import render

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.audit.actions import actions_starting_with
from triggerpoint.audit.models import AuditEvent
from triggerpoint.audit.services import record_patient_views


@staff_required("audit.view")
def audit_log(request):
    events = AuditEvent.objects.filter(clinic=request.user.clinic).select_related("patient")
    action = request.GET.get("action", "").strip()
    if action:
        # Registered names and the names older events were stored under (audit/actions.py).
        events = events.filter(action__in=actions_starting_with(action))
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    # The log names patients (MRN): reading it is itself a read of each patient listed.
    record_patient_views("patients.patient.listed", [e.patient for e in page if e.patient_id], details={"via": "audit_log"})
    return render(request, "audit/log.html", {"page": page, "action": action})
