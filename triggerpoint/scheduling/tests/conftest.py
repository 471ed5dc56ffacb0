"""A clinic ready to book: types, two rooms (one with ultrasound), weekday opening hours 08:00–18:00 New York."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from triggerpoint.scheduling import rules
from triggerpoint.scheduling.models import AppointmentType, OpeningHours, Room


def set_up_clinic(clinic):
    types = {
        kind: AppointmentType.objects.create(clinic=clinic, kind=kind, name=name, default_minutes=minutes,
                                             needs_room=kind != "remote_follow_up")
        for kind, name, minutes in [("assessment", "New patient assessment", 45),
                                    ("procedure", "Trigger point injection", 30),
                                    ("follow_up", "Follow-up", 20), ("remote_follow_up", "Phone follow-up", 15)]
    }
    rooms = [Room.objects.create(clinic=clinic, name="Room 1"),
             Room.objects.create(clinic=clinic, name="Ultrasound procedure room", has_ultrasound=True)]
    for weekday in range(5):
        OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens=time(8), closes=time(18))
    return types, rooms


@pytest.fixture
def sched(clinic_a):
    types, rooms = set_up_clinic(clinic_a)
    return {"types": types, "rooms": rooms, "clinic": clinic_a}


def next_monday(clinic, weeks: int = 1) -> date:
    today = timezone.now().astimezone(clinic.zone).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks - 1)


def at(clinic, day: date, hhmm: str):
    hour, minute = (int(x) for x in hhmm.split(":"))
    return rules.local_to_utc(day, time(hour, minute), clinic.zone)
