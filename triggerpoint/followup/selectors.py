"""Staff reads of follow-up records: what the worklist and the API list, and the audited read of one record."""

from __future__ import annotations

from datetime import datetime

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.followup.models import Alert, AlertStatus, CheckIn, CheckInStatus


def view_record(user, record, action: str = "followup.view") -> None:
    """Audit one read of a check-in or an alert."""
    require(user, action, record)
    audit.record(f"followup.{record._meta.model_name}.viewed", obj=record, patient=record.patient)


def open_alerts(clinic):
    return (Alert.objects.filter(clinic=clinic).exclude(status=AlertStatus.RESOLVED)
            .select_related("patient", "procedure__performed_by", "checkin", "acknowledged_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))


def due_checkins(clinic, now: datetime):
    return (CheckIn.objects.filter(clinic=clinic, status=CheckInStatus.DUE, due_at__lte=now)
            .select_related("patient", "procedure__performed_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))


def checkins_to_review(clinic):
    """Answered routine check-ins nobody has read yet (paged ones are handled as alerts)."""
    return (CheckIn.objects.filter(clinic=clinic, status=CheckInStatus.ANSWERED, disposition="routine",
                                   reviewed_at__isnull=True)
            .select_related("patient", "procedure__performed_by")
            .prefetch_related("procedure__sites", "procedure__injectates"))



def alerts(**filters):
    """Triage alerts of any status (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``), newest first."""
    return (Alert.objects.filter(**filters)
            .select_related("patient", "procedure", "checkin", "clinic", "acknowledged_by", "resolved_by")
            .order_by("-raised_at", "-pk"))


def answered_checkins(**filters):
    """Check-ins the patient answered (``filters`` e.g. ``clinic_id``, ``patient_id``, ``public_id__in``), oldest first."""
    return (CheckIn.objects.filter(status=CheckInStatus.ANSWERED, **filters)
            .select_related("patient", "procedure", "clinic").order_by("answered_at", "pk"))


def alerts_by_resolution(queryset, *, resolved: bool):
    """Narrow a query of `alerts()` to the resolved ones, or to those still open or acknowledged (FHIR Flag status)."""
    if resolved:
        return queryset.filter(status=AlertStatus.RESOLVED)
    return queryset.exclude(status=AlertStatus.RESOLVED)
