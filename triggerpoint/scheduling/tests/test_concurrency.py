"""Two front-desk clerks booking the same slot at the same moment: exactly one wins (PostgreSQL).

The overlap check is slowed down so both bookings are inside it at once; without the row locks
on the clinician and the room both would pass and the clinician would be double-booked.
"""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from triggerpoint.conftest import make_patient, make_staff
from triggerpoint.scheduling import services
from triggerpoint.scheduling.models import Appointment
from triggerpoint.scheduling.tests.conftest import at, next_monday, set_up_clinic


def _race(clinic_a, shared: str) -> tuple[list[str], float]:
    types, rooms = set_up_clinic(clinic_a)
    desk = make_staff("desk.race", "front_desk", clinic_a)
    doctors = [make_staff("dr.race1", "physician", clinic_a), make_staff("dr.race2", "physician", clinic_a)]
    patients = [make_patient(clinic_a, "R-1"), make_patient(clinic_a, "R-2")]
    when = at(clinic_a, next_monday(clinic_a), "09:00")
    real_check = services._check_time

    def slow_check(*args, **kwargs):
        real_check(*args, **kwargs)
        time.sleep(0.4)  # both clerks would be past the check here at once without the lock

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(i):
        try:
            barrier.wait()
            services.book(desk, patient=patients[i], appointment_type=types["procedure"],
                          clinician=doctors[0] if shared == "clinician" else doctors[i],
                          room=rooms[1] if shared == "room" else rooms[i], starts_at=when)
            outcomes.append("booked")
        except services.BookingConflict as exc:
            outcomes.append(f"409 {exc.findings[0].message}")
        finally:
            connection.close()

    with mock.patch.object(services, "_check_time", slow_check):
        threads = [threading.Thread(target=clerk, args=(i,)) for i in range(2)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        elapsed = time.monotonic() - started
    return outcomes, elapsed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shared", ["clinician", "room"])
def test_parallel_bookings_of_one_slot_cannot_both_pass(clinic_a, shared):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) are PostgreSQL's; SQLite serialises every write anyway")
    outcomes, elapsed = _race(clinic_a, shared)
    print(f"\nparallel booking of one {shared}: {outcomes[0][:7]} then {outcomes[1][:60]} in {elapsed:.2f} s")
    assert sorted(o.split(" ")[0] for o in outcomes) == ["409", "booked"], outcomes
    assert f"The {shared} already has an appointment" in next(o for o in outcomes if o.startswith("409"))
    assert Appointment.objects.count() == 1
    assert elapsed >= 0.4  # the second clerk's check waited for the first booking to commit


@pytest.mark.django_db(transaction=True)
def test_without_the_row_locks_the_same_race_double_books(clinic_a):
    """The control: the race above is real, so the lock is what prevents it."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) are PostgreSQL's; SQLite serialises every write anyway")
    with mock.patch.object(services, "_lock_resources", lambda clinician, room: None):
        outcomes, _elapsed = _race(clinic_a, "clinician")
    assert outcomes == ["booked", "booked"]
    assert Appointment.objects.count() == 2
