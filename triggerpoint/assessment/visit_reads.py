"""Reading an assessment visit: as stored (what was signed), as it stands now, and the audited reads.

`snapshot` is the signed content, `current_record` applies the amendments in order;
`get_visit`/`get_child` look a visit or its rows up with the access policy (404 / 403).
`catalogues` is what every change of a visit is checked against.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404

from triggerpoint.accounts.policy import require
from triggerpoint.assessment import exam as exam_rules
from triggerpoint.assessment.fibromyalgia import load_wpi_map
from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis
from triggerpoint.assessment.options import load_history_options
from triggerpoint.assessment.visit_input import DERIVED_FIELDS, EDITABLE_FIELDS, VisitCatalogues, as_json
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user

STORED_FIELDS = EDITABLE_FIELDS + DERIVED_FIELDS


@functools.lru_cache(maxsize=1)
def catalogues() -> VisitCatalogues:
    """The atlas, pick-lists, drug ids and WPI map the visit checks against (all immutable, cached)."""
    atlas = load_atlas()
    return VisitCatalogues(
        zone_ids=frozenset(atlas.zones),
        muscle_ids=frozenset(atlas.muscles),
        options=load_history_options(),
        drug_ids=frozenset(load_drugs().ids),
        wpi_map=load_wpi_map(),
    )


def view_visit(user, visit: Visit, *, channel: str = "ui", what: str = "visit") -> Visit:
    """Record one read of a visit (page, summary, PDF or API)."""
    require(user, "assessment.view", visit)
    audit.record("assessment.visit.viewed", obj=visit, details={"channel": channel, "what": what})
    return visit


def finding_dict(finding: ExamFinding) -> dict[str, Any]:
    atlas = load_atlas()
    name = atlas.muscles[finding.muscle].name if atlas.has_muscle(finding.muscle) else finding.muscle
    return {
        "id": str(finding.public_id),
        "muscle": finding.muscle,
        "muscle_name": name,
        "side": finding.side,
        **{flag: getattr(finding, flag) for flag in exam_rules.BOOLEAN_FINDINGS},
        "referred_pain_zones": list(finding.referred_zones),
        "pressure_pain_threshold_kg_cm2": (
            float(finding.pressure_pain_threshold_kg_cm2) if finding.pressure_pain_threshold_kg_cm2 is not None else None
        ),
        "notes": finding.notes,
        "classification": finding.classification,
        "meets_lcd_documentation": finding.meets_lcd_documentation,
        "rule_id": finding.rule_id,
        "rule_version": finding.rule_version,
        "basis": finding.basis,
    }


def diagnosis_dict(diagnosis: VisitDiagnosis) -> dict[str, Any]:
    return {
        "id": str(diagnosis.public_id),
        "code": diagnosis.code,
        "description": diagnosis.description,
        "is_primary": diagnosis.is_primary,
    }


def snapshot(visit: Visit) -> dict[str, Any]:
    """The visit as stored (what was signed), as JSON-ready values."""
    data = {name: as_json(getattr(visit, name)) for name in STORED_FIELDS}
    data["exam_findings"] = [finding_dict(f) for f in visit.exam_findings.all()]
    data["diagnoses"] = [diagnosis_dict(d) for d in visit.diagnoses.all()]
    return data


def current_record(visit: Visit) -> dict[str, Any]:
    """The visit as it stands now: what was signed with every amendment applied in order.

    `amended_fields` names the keys an amendment changed, so displays can mark them.
    """
    data = snapshot(visit)
    amended: set[str] = set()
    for amendment in visit.amendments.all():
        for key, change in amendment.changes.items():
            data[key] = change["after"]
            amended.add(key)
    data["amended_fields"] = sorted(amended)
    return data


def content_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 of the signed content, kept in the audit trail to show it never changed."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def get_visit(user, patient_public_id, visit_public_id, action: str) -> Visit:
    """The visit, if it belongs to that patient and `user` may `action` it (404 / 403 otherwise)."""
    patient = get_patient_for_user(user, patient_public_id, "patient.view_clinical" if user.clinic_id else "patient.view")
    try:
        visit = Visit.objects.select_related("patient", "clinician", "signed_by").get(
            public_id=visit_public_id, patient_id__in=chart_ids(patient)
        )
    except (Visit.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("No such visit.") from exc
    require(user, action, visit)
    return visit


def get_child(visit: Visit, model, public_id):
    """An exam finding or diagnosis of this visit (404 for anything else)."""
    try:
        return model.objects.get(public_id=public_id, visit=visit)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("No such item on this visit.") from exc


def view_patient_visits(user, patient, count: int) -> None:
    """Record one read of a patient's list of assessment visits."""
    audit.record("assessment.visit.listed", obj=patient, details={"visits": count})


def last_visit_dates(patient_ids: list[int]) -> dict[int, date]:
    """Each patient's latest assessment visit date (patients.last_visits asks for a page of results)."""
    rows = Visit.objects.filter(patient_id__in=patient_ids).values("patient_id").annotate(latest=Max("visit_date"))
    return {row["patient_id"]: row["latest"] for row in rows}


def recent_visits(patient, count: int = 10) -> list[Visit]:
    """The patient's latest assessment visits (any status), latest visit date first."""
    return list(Visit.objects.filter(patient_id__in=chart_ids(patient)).order_by("-visit_date")[:count])


def visit_of_patient(patient, public_id: Any) -> Visit | None:
    """This patient's visit with that public id (any status), or None (another patient's is None too)."""
    return Visit.objects.filter(public_id=public_id, patient_id__in=chart_ids(patient)).first()


def latest_signed_visit(patient, on: date | None = None) -> Visit | None:
    """The patient's latest signed visit (on or before `on` when given): what "the plan" of a later step means."""
    visits = Visit.objects.filter(patient_id__in=chart_ids(patient), status="signed")
    if on is not None:
        visits = visits.filter(visit_date__lte=on)
    return visits.order_by("-visit_date", "-signed_at").first()


def plan_of(visit: Visit) -> dict[str, Any]:
    """The treatment plan of a visit as it stands now (a signed one with its amendments), for the steps after it.

    Screening and the procedure note prefill from this: planned sites (muscle, side), planned
    injectates (drug, and the concentration/volume when the plan gave them), the technique and the
    diagnosis codes (primary first). `visit` and `visit_date` say where the values came from.
    """
    record = current_record(visit)
    diagnoses = [row for row in record.get("diagnoses") or [] if isinstance(row, dict)]
    return {
        "visit": str(visit.public_id),
        "visit_date": visit.visit_date.isoformat(),
        "sites": [
            {"muscle": row["muscle"], "side": row["side"]}
            for row in record.get("planned_sites") or []
            if isinstance(row, dict) and row.get("muscle") and row.get("side")
        ],
        "injectates": [dict(row) for row in record.get("planned_injectate") or [] if isinstance(row, dict) and row.get("drug")],
        "technique": record.get("planned_technique") or "",
        "guidance": record.get("planned_guidance") or "",
        "diagnosis_codes": [
            row["code"]
            for row in sorted(diagnoses, key=lambda row: not row.get("is_primary"))  # stable: primary first
            if row.get("code")
        ],
    }


def latest_signed_plan(patient, on: date | None = None) -> dict[str, Any] | None:
    """The plan of the patient's latest signed visit (see `plan_of`), or None when there is none."""
    visit = latest_signed_visit(patient, on)
    return plan_of(visit) if visit is not None else None


def signed_visits(**filters):
    """Signed assessment visits narrowed by `filters` (clinic_id, patient_id__in, visit_date__gte…).

    The one way other apps (the FHIR interface) ask for visits as a record: drafts are not one. The
    clinician, the patient with their clinic and the diagnoses come loaded."""
    return (Visit.objects.filter(status="signed", **filters)
            .select_related("clinician", "patient", "patient__clinic")
            .prefetch_related("diagnoses"))


def signed_visit_diagnoses(**filters):
    """Diagnoses of signed visits narrowed by `filters` (clinic_id, visit__patient_id__in…), visit and amendments loaded."""
    return (VisitDiagnosis.objects.filter(visit__status="signed", **filters)
            .select_related("visit", "visit__patient", "visit__patient__clinic")
            .prefetch_related("visit__amendments"))


def amended_diagnosis_codes(visit: Visit) -> set[str] | None:
    """The diagnosis codes of a signed visit after its amendments, or None when no amendment changed them."""
    codes = None
    for amendment in visit.amendments.all():
        change = amendment.changes.get("diagnoses")
        if change is not None:
            codes = {row.get("code") for row in change.get("after") or [] if isinstance(row, dict)}
    return codes
