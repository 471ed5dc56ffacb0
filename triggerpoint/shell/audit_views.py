import json

from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.audit import services
from triggerpoint.audit.services import record_patient_views
from triggerpoint.core.csv_export import streaming_csv
from triggerpoint.shell.audit_log_filters import AuditLogFilter, CappedPaginator

PAGE_SIZE = 100
CSV_COLUMNS = ["at", "user", "action", "patient_mrn", "patient", "object_type", "object_id", "ip", "request_id", "details"]


@staff_required("audit.view")
def audit_log(request):
    filters = AuditLogFilter.from_query(request.GET)
    events = filters.apply(request.user.clinic)
    page = CappedPaginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    # The log names patients (MRN): reading it is itself a read of each patient listed.
    record_patient_views("patients.patient.listed", [e.patient for e in page if e.patient_id], details={"via": "audit_log"})
    query = filters.as_query()
    return render(request, "audit/log.html", {
        "page": page, "f": filters, "query": urlencode(query),
        "focus_patient": next((e.patient for e in page if e.patient_id), None) if filters.patient_id else None,
    })


@staff_required("audit.view")
def audit_export(request):
    """The filtered log as CSV; the export itself is an audited event (with its filters)."""
    filters = AuditLogFilter.from_query(request.GET)
    events = filters.apply(request.user.clinic)
    services.record("audit.log.exported", clinic=request.user.clinic,
                    details={"filters": filters.as_query(), "rows": events.count()})
    zone = request.user.clinic.zone

    def rows():
        for e in events.iterator(chunk_size=2000):
            patient = e.patient
            yield [
                timezone.localtime(e.at, zone).isoformat(), e.actor_label, e.action,
                patient.mrn if patient else "", f"{patient.family_name}, {patient.given_name}" if patient else "",
                e.object_type, e.object_id, e.ip or "", e.request_id,
                json.dumps(e.details, sort_keys=True, ensure_ascii=False) if e.details else "",
            ]

    stamp = timezone.localtime(timezone.now(), zone).strftime("%Y%m%d-%H%M")
    return streaming_csv(f"audit-{stamp}.csv", CSV_COLUMNS, rows())
