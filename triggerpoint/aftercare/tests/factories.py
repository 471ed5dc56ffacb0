"""Signed procedures for aftercare tests, made straight in the database.

The procedure note's own signing service checks far more than aftercare cares about
(screening, consent, dose, coding); these tests need only "a signed note with these
sites and drugs", then run aftercare's receiver inside a transaction as the signing
service's `procedure_signed.send` does. Only aftercare's receiver runs, so these tests
do not depend on the follow-up and outcomes receivers; that the receiver really is
connected to the signal is tested on its own (test_receiver_is_connected_to_procedure_signed).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone


def signed_procedure(
    patient,
    *,
    sites=(("masseter", "left"),),
    drugs=("lidocaine",),
    on: date | None = None,
    by=None,
    send_signal: bool = True,
    signed: bool = True,
):
    from triggerpoint.accounts.models import User
    from triggerpoint.aftercare.receivers import create_plan_on_signature
    from triggerpoint.procedures.models import Injectate, InjectionSite, Procedure
    from triggerpoint.procedures.signals import procedure_signed

    doctor = by or User.objects.create_user(f"doc-{uuid.uuid4().hex[:8]}", clinic=patient.clinic)
    procedure = Procedure.objects.create(
        clinic=patient.clinic,
        patient=patient,
        performed_by=doctor,
        procedure_date=on or patient.clinic.today(),
    )
    for position, (muscle, side) in enumerate(sites):
        InjectionSite.objects.create(procedure=procedure, position=position, muscle=muscle, side=side)
    for drug in drugs:
        Injectate.objects.create(procedure=procedure, drug=drug, volume_ml=Decimal("1.0"))
    if not signed:
        return procedure
    Procedure.objects.filter(pk=procedure.pk).update(status="signed", signed_at=timezone.now(), signed_by=doctor)
    procedure.refresh_from_db()
    if send_signal:
        with transaction.atomic():
            create_plan_on_signature(sender=Procedure, procedure=procedure, signal=procedure_signed)
    return procedure


def plan_for(procedure):
    from triggerpoint.aftercare.models import AftercarePlan

    return AftercarePlan.objects.get(procedure=procedure)
