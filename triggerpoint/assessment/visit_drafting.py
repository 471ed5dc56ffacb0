"""Changes to a draft assessment visit: open it, save it (version-checked).

A draft is saved with an optimistic version check; a physician signs it (`visit_signing`);
after that the rows never change and every correction is an amendment (`visit_amendments`).
`refuse_if_signed` is the gate every draft change passes (exam findings, diagnoses too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction

from triggerpoint.accounts.policy import require
from triggerpoint.assessment.models import Visit, VisitStatus
from triggerpoint.assessment.visit_input import (
    SCORE_FIELDS,
    VisitContext,
    parse_visit_changes,
)
from triggerpoint.assessment.visit_reads import catalogues
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import ImmutableRecord


def refuse_if_signed(visit: Visit) -> None:
    """Read from the database, not the object: a visit signed from another screen is refused too."""
    if Visit.all_objects.filter(pk=visit.pk, status=VisitStatus.SIGNED).exists():
        raise ImmutableRecord("This visit is signed; record an amendment instead.")


def examined_sites(visit: Visit) -> dict[tuple[str, str], str]:
    """Each examined muscle-side with its classification (a planned site must be one of them)."""
    return {(f.muscle, f.side): f.classification for f in visit.exam_findings.all()}


def draft_context(visit: Visit) -> VisitContext:
    """What a draft save is checked against: the visit date, the examined sites, the stored scores."""
    return VisitContext(
        visit_date=visit.visit_date,
        examined_sites=examined_sites(visit),
        current_scores={name: getattr(visit, name) for name in SCORE_FIELDS},
    )


@transaction.atomic
def create_visit(user, patient, *, visit_date: date | None = None, chief_complaint: str = "") -> Visit:
    """Open a draft assessment visit for `patient`, with `user` as the clinician."""
    require(user, "assessment.edit", patient)
    visit = Visit(
        clinic=patient.clinic,
        patient=patient,
        clinician=user,
        visit_date=visit_date or patient.clinic.today(),
        chief_complaint=(chief_complaint or "").strip()[:300],
    )
    visit.save()
    audit.record("assessment.visit.created", obj=visit, details={"visit_date": visit.visit_date.isoformat()})
    return visit


@transaction.atomic
def save_visit_draft(
    user, visit: Visit, expected_version: int, changes: Mapping[str, Any], *, channel: str | None = None
) -> Visit:
    """Apply `changes` (visit fields) to a draft if nobody saved it since `expected_version`.

    Raises RuleInputError listing every problem, StaleVersion on a concurrent save,
    ImmutableRecord once the visit is signed. `channel` ("autosave") is kept in the audit
    event, so a reviewer can tell the editor's background saves from a clinician's Save.
    """
    require(user, "assessment.edit", visit)
    refuse_if_signed(visit)
    clean = parse_visit_changes(changes, draft_context(visit), catalogues())
    changed = [name for name, value in clean.items() if getattr(visit, name) != value]
    if not changed:
        return visit
    for name in changed:
        setattr(visit, name, clean[name])
    visit.save_versioned(expected_version, fields=changed)
    audit.record(
        "assessment.visit.draft_saved",
        obj=visit,
        details={"fields": sorted(changed), "version": visit.version} | ({"channel": channel} if channel else {}),
    )
    return visit
