"""Billing rows of the role × action matrix (accounts/tests/test_access_matrix.py).

The hand-off is the front desk's: it lists patients' identities with codes and payers, so clinical
staff, analysts, clinic admins, patients and other clinics are refused.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

FRONT_DESK = {"front_desk"}


def rows(patient):
    from triggerpoint.billing.models import BillingHandoff
    from triggerpoint.conftest import make_staff
    from triggerpoint.outcomes.tests.factories import signed_procedure

    doctor = make_staff(f"billing.doc.{patient.pk}.{timezone.now().timestamp()}", "physician", patient.clinic,
                        with_totp=False)
    billed = signed_procedure(patient, doctor, timezone.localdate() - timedelta(days=3))
    BillingHandoff.objects.create(clinic=patient.clinic, procedure=billed, billed_at=timezone.now(), batch="b1")
    return [
        ("billing:worklist", "get", "/billing/?status=all", None, FRONT_DESK, {200}),
        ("billing:export", "get", "/billing/export.csv?status=all", None, FRONT_DESK, {200}),
        ("billing:mark_billed", "post", "/billing/mark/", {"note": str(billed.public_id)}, FRONT_DESK, {302}),
        ("billing:reopen", "post", f"/billing/{billed.public_id}/reopen/", {"reason": "claim rejected"},
         FRONT_DESK, {302}),
    ]
