"""The coder's pages: signed notes to bill with their claim lines, mark billed, take back, export CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.audit import services as audit
from triggerpoint.billing import services
from triggerpoint.billing.claims import STATUSES, ClaimFilter, claim_of
from triggerpoint.billing.lines import CSV_COLUMNS
from triggerpoint.core.csv_export import streaming_csv

NOTES_PER_PAGE = 50


@staff_required("billing.view")
def worklist(request):
    filters = ClaimFilter.from_query(request.GET)
    page = Paginator(filters.notes(request.user), NOTES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(note, claim_of(note)) for note in page]
    audit.record_patient_views("billing.claims.viewed", [note.patient for note in page],
                               clinic=request.user.clinic_id, details={"filters": filters.as_query()})
    return render(request, "billing/worklist.html", {
        "page": page, "rows": rows, "f": filters, "statuses": STATUSES, "query": urlencode(filters.as_query()),
    })


def _back_to_list(query: str):
    """The list with the filters the coder was using (re-parsed: never a redirect to an arbitrary place)."""
    filters = ClaimFilter.from_query(QueryDict(query))
    return redirect(f"{reverse('billing:worklist')}?{urlencode(filters.as_query())}")


@staff_required("billing.mark")
@require_POST
def mark_billed(request):
    try:
        marked = services.mark_billed(request.user, request.POST.getlist("note"))
    except services.NothingToBill as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{len(marked)} note{'s' if len(marked) != 1 else ''} marked billed"
                                  + (f" (batch {marked[0].batch})." if marked else "; they were already billed."))
    return _back_to_list(request.POST.get("back", ""))


@staff_required("billing.mark")
@require_POST
def reopen(request, public_id):
    try:
        services.reopen(request.user, str(public_id), request.POST.get("reason", ""))
    except (services.NothingToBill, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The note is back in the list to bill.")
    return _back_to_list(request.POST.get("back", ""))


@staff_required("billing.view")
def export(request):
    """The filtered claim lines as CSV for the practice-management system; each patient exported is audited."""
    filters = ClaimFilter.from_query(request.GET)
    notes = list(filters.notes(request.user))
    audit.record_patient_views("billing.claims.exported", [note.patient for note in notes],
                               clinic=request.user.clinic_id,
                               details={"filters": filters.as_query(), "notes": len(notes)})
    rows = (row for note in notes for row in claim_of(note).csv_rows())
    stamp = timezone.localtime(timezone.now(), request.user.clinic.zone).strftime("%Y%m%d-%H%M")
    return streaming_csv(f"claims-{filters.status}-{stamp}.csv", CSV_COLUMNS, rows)
