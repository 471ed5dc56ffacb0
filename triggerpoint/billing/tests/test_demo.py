"""The demo clinic's billing: older signed notes billed in weekly batches, last week's waiting in the list."""

from __future__ import annotations

from datetime import timedelta

from triggerpoint.billing.claims import claim_of
from triggerpoint.billing.models import BillingHandoff
from triggerpoint.procedures.selectors import signed_procedures
from triggerpoint.shell import demo_clinic as demo


def test_the_demo_bills_older_notes_and_leaves_the_last_week_to_bill(db):
    ctx = demo.build_demo(patients=40, seed=7, only_apps=("assessment", "screening", "procedures", "billing"))
    billed = BillingHandoff.objects.filter(billed_at__isnull=False).select_related("procedure")
    assert billed.exists()
    assert all(h.procedure.procedure_date <= ctx.today - timedelta(days=7) for h in billed)
    assert all(h.batch.startswith("demo-") for h in billed)
    waiting = signed_procedures(clinic=ctx.clinics[0], procedure_date__lte=ctx.today - timedelta(days=7),
                                billing_handoff__isnull=True)  # the clinic with a front desk
    assert waiting.exists() and all(claim_of(note).problem for note in waiting)  # held back, with the reason shown
    assert any(note.startswith("billing:") for note in ctx.notes)
