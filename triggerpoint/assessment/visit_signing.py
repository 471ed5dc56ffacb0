"""Signing an assessment visit: what the draft still needs, and the physician's signature.

After signing the rows never change; the audit event keeps the SHA-256 of the signed content.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.assessment.diagnoses import validate_code
from triggerpoint.assessment.models import Visit, VisitStatus
from triggerpoint.assessment.visit_drafting import examined_sites, refuse_if_signed
from triggerpoint.assessment.visit_input import SigningCheck, signing_problems
from triggerpoint.assessment.visit_reads import content_hash, snapshot
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError


def signing_check(visit: Visit) -> SigningCheck:
    """What the draft still needs before signing (diagnoses re-checked against the visit date)."""
    diagnoses = list(visit.diagnoses.all())
    check = signing_problems(
        diagnosis_codes=[d.code for d in diagnoses],
        primary_count=sum(1 for d in diagnoses if d.is_primary),
        examined_sites=examined_sites(visit),
        planned_sites=list(visit.planned_sites),
        nrs_average=visit.nrs_average,
    )
    code_problems: list[str] = []
    for diagnosis in diagnoses:
        try:
            validate_code(diagnosis.code, visit.visit_date)
        except RuleInputError as error:
            code_problems.extend(error.problems)
    if not code_problems:
        return check
    problems = check.problems + tuple(code_problems)
    return SigningCheck(ready=False, problems=problems)


@transaction.atomic
def sign_visit(user, visit: Visit, expected_version: int) -> Visit:
    """A physician signs the draft; from then on it is immutable (corrections are amendments).

    Raises RuleInputError naming what is still missing, StaleVersion if the draft changed
    since `expected_version`, ImmutableRecord if it is already signed.
    """
    require(user, "assessment.sign", visit)
    refuse_if_signed(visit)
    check = signing_check(visit)
    if not check.ready:
        raise RuleInputError(list(check.problems))
    visit.status = VisitStatus.SIGNED
    visit.signed_by = user
    visit.signed_at = timezone.now()
    visit.save_versioned(expected_version, fields=["status", "signed_by", "signed_at"])
    audit.record(
        "assessment.visit.signed",
        obj=visit,
        details={"version": visit.version, "content_sha256": content_hash(snapshot(visit))},
    )
    return visit

