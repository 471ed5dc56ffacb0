"""Signed procedures, on-call rotas and answered check-ins for the follow-up tests.

`signed_procedure` writes the rows directly (draft, sites, then the status) so the tests
control the date and time; `test_signal_integration` signs through the procedures service.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from triggerpoint.conftest import make_staff

# The follow-up tests' usual procedure day: a Monday afternoon in a New York clinic.
MONDAY = date(2026, 11, 16)
PERFORMED = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # 14:00 in New York
EVENING = datetime(2026, 11, 16, 23, 5, tzinfo=UTC)  # day-0 check-in is open (18:05 New York)


def signed_procedure(patient, physician, *, on: date, performed_at: datetime | None = None,
                     sites=(("upper_trapezius", "left"),), drug: str = "lidocaine"):
    from triggerpoint.procedures.models import Injectate, InjectionSite, Procedure

    procedure = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, performed_by=physician, procedure_date=on, performed_at=performed_at,
    )
    for position, (muscle, side) in enumerate(sites):
        InjectionSite.objects.create(procedure=procedure, position=position, muscle=muscle, side=side)
    Injectate.objects.create(procedure=procedure, drug=drug, concentration_percent=Decimal("1"),
                             volume_ml=Decimal(2 * len(sites)), dose_mg=Decimal(20 * len(sites)))
    Procedure.objects.filter(pk=procedure.pk).update(
        status="signed", signed_at=performed_at or datetime.combine(on, time(12), tzinfo=UTC),
        signed_by=physician)
    procedure.refresh_from_db()
    return procedure


def rota(clinic, *people, phones=None, minutes: int = 15):
    """An on-call order for `clinic`: people in order, each with a paging phone."""
    from triggerpoint.followup.models import OnCallSchedule, OnCallSlot

    schedule, _ = OnCallSchedule.objects.get_or_create(clinic=clinic)
    schedule.acknowledge_within_minutes = minutes
    schedule.save()
    schedule.slots.all().delete()
    for position, person in enumerate(people):
        phone = (phones or {}).get(person.username, f"(555) 100-{position:04d}")
        OnCallSlot.objects.create(schedule=schedule, user=person, position=position, phone=phone)
    return schedule


def staff(username: str, role: str, clinic, email: str | None = None):
    user = make_staff(username, role, clinic)
    user.email = email if email is not None else f"{username}@clinic.example"
    user.first_name, user.last_name = username.split(".")[0].title(), username.split(".")[-1].title()
    user.save()
    return user
