"""Changes to a draft visit's diagnoses: add (billable on the visit date), make primary, remove."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from triggerpoint.accounts.policy import require
from triggerpoint.assessment.diagnoses import validate_code
from triggerpoint.assessment.models import Visit, VisitDiagnosis
from triggerpoint.assessment.visit_drafting import refuse_if_signed
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError


@transaction.atomic
def add_diagnosis(user, visit: Visit, code: str, *, primary: bool | None = None) -> VisitDiagnosis:
    """Add an ICD-10-CM code after checking it is billable on the visit date.

    The first diagnosis of a visit is primary unless told otherwise; making a new one
    primary demotes the previous primary.
    """
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    entry = validate_code(code, visit.visit_date)
    if visit.diagnoses.filter(code=entry.code).exists():
        raise RuleInputError(f"{entry.code} is already on this visit")
    existing = visit.diagnoses.exists()
    is_primary = (not existing) if primary is None else bool(primary)
    if is_primary:
        for other in visit.diagnoses.filter(is_primary=True):
            other.is_primary = False
            other.save()
    diagnosis = VisitDiagnosis(
        clinic=visit.clinic, visit=visit, code=entry.code, description=entry.description, is_primary=is_primary
    )
    try:
        with transaction.atomic():
            diagnosis.save()
    except IntegrityError as exc:  # the same code added at the same moment from another screen
        raise RuleInputError(f"{entry.code} is already on this visit") from exc
    audit.record(
        "assessment.diagnosis.added",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": entry.code, "primary": is_primary},
    )
    return diagnosis


@transaction.atomic
def set_primary_diagnosis(user, diagnosis: VisitDiagnosis) -> VisitDiagnosis:
    visit = diagnosis.visit
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    for other in visit.diagnoses.filter(is_primary=True).exclude(pk=diagnosis.pk):
        other.is_primary = False
        other.save()
    diagnosis.is_primary = True
    diagnosis.save()
    audit.record(
        "assessment.diagnosis.made_primary",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": diagnosis.code},
    )
    return diagnosis


@transaction.atomic
def remove_diagnosis(user, diagnosis: VisitDiagnosis) -> None:
    visit = diagnosis.visit
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    diagnosis.soft_delete()
    if diagnosis.is_primary:
        successor = visit.diagnoses.order_by("created_at").first()
        if successor is not None:
            successor.is_primary = True
            successor.save()
    audit.record(
        "assessment.diagnosis.removed",
        obj=diagnosis,
        patient=visit.patient,
        details={"visit": str(visit.public_id), "code": diagnosis.code},
    )

