"""The demo clinic's week: a living diary for a newcomer, built the same way every time."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from triggerpoint.scheduling import rules, selectors
from triggerpoint.scheduling.models import Appointment


def _build(today):
    from triggerpoint.shell.demo_clinic import build_demo

    return build_demo(patients=16, seed=7, today=today, only_apps=("scheduling",))


def test_the_demo_week_has_past_days_done_today_in_progress_and_future_days_booked(db):
    today = date(2026, 12, 9)  # a Wednesday
    ctx = _build(today)
    clinic = ctx.clinics[0]
    by_day = {today + timedelta(days=d): Counter(a.status for a in selectors.appointments_for_day(clinic, today + timedelta(days=d)))
              for d in range(-2, 4)}
    monday, tuesday = today - timedelta(days=2), today - timedelta(days=1)
    for past in (monday, tuesday):
        assert by_day[past]["done"] >= 8 and set(by_day[past]) <= {"done", "no_show", "cancelled"}
    assert by_day[today]["in_room"] >= 1 and by_day[today]["arrived"] >= 1 and by_day[today]["done"] >= 3
    assert by_day[today]["booked"] + by_day[today]["confirmed"] >= 4
    for future in (today + timedelta(days=1), today + timedelta(days=2)):
        assert set(by_day[future]) <= {"booked", "confirmed", "cancelled"} and by_day[future]["booked"] >= 1
    assert by_day[today + timedelta(days=3)]["booked"] + by_day[today + timedelta(days=3)]["confirmed"] >= 1  # Saturday


def test_the_demo_week_breaks_none_of_the_rules(db):
    ctx = _build(date(2026, 12, 9))
    clinic = ctx.clinics[0]
    hours = selectors.opening_hours(clinic)
    appointments = list(Appointment.objects.filter(clinic=clinic))
    slots = [rules.Slot(id=str(a.pk), starts_at=a.starts_at, ends_at=a.ends_at, clinician_id=a.clinician_id,
                        room_id=a.room_id, status=a.status) for a in appointments]
    for a in appointments:
        assert rules.check_opening_hours(a.starts_at, a.ends_at, clinic.zone, hours) is None
        assert rules.find_conflicts(a.starts_at, a.ends_at, a.clinician_id, a.room_id, slots, ignore_id=str(a.pk)) == []
        stamp = Appointment.STATUS_TIMESTAMP.get(a.status)
        assert stamp is None or getattr(a, stamp) is not None
        assert (a.status == "cancelled") == bool(a.cancel_reason)
    per_day = Counter((a.patient_id, a.starts_at.astimezone(clinic.zone).date()) for a in appointments)
    assert max(per_day.values()) == 1  # nobody is booked twice on one day


def test_the_demo_week_is_deterministic(db):
    from django.db import transaction

    def fingerprint():
        with transaction.atomic():
            _build(date(2026, 12, 9))
            rows = sorted((a.patient.mrn, a.clinician.username, a.starts_at, a.status, a.appointment_type.kind)
                          for a in Appointment.objects.select_related("patient", "clinician", "appointment_type"))
            transaction.set_rollback(True)  # build the same clinic again from nothing
        return rows

    first, second = fingerprint(), fingerprint()
    assert len(first) > 60 and first == second


def test_a_tiny_demo_without_patients_in_the_second_clinic_still_builds(db):
    from triggerpoint.shell.demo_clinic import build_demo

    ctx = build_demo(patients=2, seed=7, today=date(2026, 12, 9), only_apps=("scheduling",))
    assert Appointment.objects.filter(clinic=ctx.clinics[0]).exists()
    assert not Appointment.objects.filter(clinic=ctx.clinics[1]).exists()
