"""Signal receivers: a signed procedure note gets its aftercare plan and reminders.

Runs inside the signing transaction (the procedures app sends `procedure_signed` there),
so the plan, its link and its outbox rows commit or roll back with the signature.
A plan that cannot be built (facts the generator refuses) must not block the signature
of a note that is clinically complete: the attempt is rolled back to a savepoint, the
problems are written to the audit log and the chart shows "no aftercare plan" with a
button to create it once the facts are fixed.
"""

from __future__ import annotations

import logging

from django.db import transaction

from triggerpoint.aftercare import services
from triggerpoint.audit import services as audit

logger = logging.getLogger(__name__)


def create_plan_on_signature(sender, procedure, **kwargs) -> None:
    try:
        with transaction.atomic():
            services.create_plan_for_procedure(procedure)
    except services.PlanRefused as error:
        logger.warning("No aftercare plan for procedure %s: %s", procedure.public_id, error.problems)
        audit.record(
            "aftercare.plan.not_created",
            obj=procedure,
            details={"problems": list(error.problems)},
        )
