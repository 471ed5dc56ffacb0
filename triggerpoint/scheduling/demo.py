"""The demo clinic's diary: types, two rooms (one with ultrasound), opening hours and this week's schedule.

Deterministic: the week is the one containing `ctx.today`, the patients and times come from a
random generator seeded from the demo seed (its own, so the other apps' demo data does not move),
and "today" is shown in progress as of 11:00 on the clinic's clock whatever the hour the demo
is built: earlier appointments are done (one no-show), the 11:00 one is in the room, the next has
arrived, the rest are booked or confirmed. Past days are done, with a few no-shows and
cancellations; future days are booked, about half confirmed.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from triggerpoint.scheduling import rules
from triggerpoint.scheduling.models import Appointment, AppointmentType, OpeningHours, Room

TYPES = [  # kind, name, minutes, needs a room
    ("assessment", "New patient assessment", 45, True),
    ("procedure", "Trigger point injection", 30, True),
    ("follow_up", "Follow-up visit", 20, True),
    ("remote_follow_up", "Phone/video follow-up", 15, False),
]
WEEKDAY_HOURS = (time(8), time(18))
SATURDAY_HOURS = (time(9), time(13))
IN_PROGRESS_AT = time(11)  # today's schedule is shown as it stands at 11:00 local
# Each clinician's day: (local start, type kind) and the room they work in.
DAYS = {
    "dr.rivera": (["09:15", "10:00", "11:00", "11:30", "14:00", "15:30"], "Ultrasound procedure room"),
    "dr.chen": (["08:45", "10:15", "11:00", "13:30", "15:00"], "Room 1"),
    "nurse.okafor": (["09:30", "11:00", "11:30", "14:00"], None),
    "dr.berg": (["09:00", "10:00", "11:00", "14:00"], "Procedure room"),  # the second clinic
}
MAIN_CLINICIANS = ("dr.rivera", "dr.chen", "nurse.okafor")
ARRIVED_UNTIL = time(11, 45)  # today, appointments after 11:00 up to this one have arrived
CANCEL_REASONS = ["Patient called: unwell", "Patient called: work conflict", "Clinic rescheduled: clinician away",
                  "Patient called: transport fell through"]


def set_up(clinic, rooms: list[tuple[str, bool]]) -> tuple[dict[str, AppointmentType], dict[str, Room]]:
    types = {kind: AppointmentType.objects.create(clinic=clinic, kind=kind, name=name, default_minutes=minutes,
                                                  needs_room=needs_room)
             for kind, name, minutes, needs_room in TYPES}
    made = {name: Room.objects.create(clinic=clinic, name=name, has_ultrasound=ultrasound) for name, ultrasound in rooms}
    OpeningHours.objects.bulk_create(
        [OpeningHours(clinic=clinic, weekday=d, opens=WEEKDAY_HOURS[0], closes=WEEKDAY_HOURS[1]) for d in range(5)]
        + [OpeningHours(clinic=clinic, weekday=5, opens=SATURDAY_HOURS[0], closes=SATURDAY_HOURS[1])])
    return types, made


def _kind_for(username: str, index: int, rng: random.Random) -> str:
    if username.startswith("nurse"):
        return "remote_follow_up" if index % 2 else "follow_up"
    return rng.choice(["procedure", "procedure", "assessment", "follow_up"])


def _status(day: date, today: date, start_local: time, rng: random.Random, *, today_index: dict) -> tuple[str, str]:
    if day < today:
        roll = rng.random()
        if roll < 0.08:
            return rules.NO_SHOW, ""
        if roll < 0.15:
            return rules.CANCELLED, rng.choice(CANCEL_REASONS)
        return rules.DONE, ""
    if day > today:
        roll = rng.random()
        if roll < 0.05:
            return rules.CANCELLED, rng.choice(CANCEL_REASONS)
        return (rules.CONFIRMED if roll < 0.55 else rules.BOOKED), ""
    if start_local < IN_PROGRESS_AT:
        today_index["before"] += 1
        return (rules.NO_SHOW if today_index["before"] == 3 else rules.DONE), ""
    if start_local == IN_PROGRESS_AT:
        return rules.IN_ROOM, ""
    today_index["after"] += 1
    if start_local <= ARRIVED_UNTIL:
        return rules.ARRIVED, ""
    return (rules.CONFIRMED if today_index["after"] % 2 else rules.BOOKED), ""


def _stamps(appointment: Appointment) -> None:
    start, end, status = appointment.starts_at, appointment.ends_at, appointment.status
    if status in (rules.CONFIRMED, rules.ARRIVED, rules.IN_ROOM, rules.DONE):
        appointment.confirmed_at = start - timedelta(days=1, hours=3)
    if status in (rules.ARRIVED, rules.IN_ROOM, rules.DONE):
        appointment.arrived_at = start - timedelta(minutes=10)
    if status in (rules.IN_ROOM, rules.DONE):
        appointment.in_room_at = start + timedelta(minutes=2)
    if status == rules.DONE:
        appointment.done_at = end
    if status == rules.CANCELLED:
        appointment.cancelled_at = start - timedelta(days=1)
    if status == rules.NO_SHOW:
        appointment.no_show_at = start + timedelta(minutes=20)


def build_week(clinic, today: date, clinicians: dict, patients: list, types: dict, rooms: dict, desk,
               rng: random.Random) -> list[Appointment]:
    """The schedule of the week (Monday to Saturday) containing `today` for these clinicians and patients."""
    zone = clinic.zone
    monday = today - timedelta(days=today.weekday())
    appointments = []
    for offset in range(6):
        day = monday + timedelta(days=offset)
        opens, closes = SATURDAY_HOURS if day.weekday() == 5 else WEEKDAY_HOURS
        today_index = {"before": 0, "after": 0}
        seen_today: set[int] = set()  # nobody comes twice in one day
        for username, user in clinicians.items():
            times, room_name = DAYS[username]
            for index, hhmm in enumerate(times):
                start_local = time.fromisoformat(hhmm)
                if not opens <= start_local < closes:
                    continue
                kind = _kind_for(username, index, rng)
                starts_at = rules.local_to_utc(day, start_local, zone)
                length = timedelta(minutes=min(types[kind].default_minutes, 30))
                if rules.local_to_utc(day, closes, zone) < starts_at + length:
                    continue
                free = [p for p in patients if p.pk not in seen_today]
                if not free:
                    continue
                patient = free[rng.randrange(len(free))]
                seen_today.add(patient.pk)
                status, reason = _status(day, today, start_local, rng, today_index=today_index)
                appointment = Appointment(
                    clinic=clinic, patient=patient, appointment_type=types[kind],
                    clinician=user, room=rooms.get(room_name) if types[kind].needs_room else None,
                    starts_at=starts_at, ends_at=starts_at + length, status=status, cancel_reason=reason,
                    created_by=desk, updated_by=desk)
                _stamps(appointment)
                if status == rules.ARRIVED:  # checked in shortly before "now" (11:00), not in the future
                    appointment.arrived_at = rules.local_to_utc(day, time(10, 55), zone)
                appointments.append(appointment)
    return Appointment.objects.bulk_create(appointments)


def extend(ctx) -> None:
    rng = random.Random(f"scheduling:{ctx.seed}")  # its own stream: the other apps' demo data stays as it was
    main, second = ctx.clinics[0], ctx.clinics[1]
    types, rooms = set_up(main, [("Room 1", False), ("Ultrasound procedure room", True)])
    clinicians = {name: ctx.staff[name] for name in MAIN_CLINICIANS}
    patients = [p for p in ctx.patients if p.clinic_id == main.pk]
    made = build_week(main, ctx.today, clinicians, patients, types, rooms, ctx.staff["desk.lopez"], rng) \
        if patients else []
    types_b, rooms_b = set_up(second, [("Procedure room", False)])
    patients_b = [p for p in ctx.patients if p.clinic_id == second.pk]
    if patients_b:  # a small demo (fewer than 8 patients) has none in the second clinic
        made += build_week(second, ctx.today, {"dr.berg": ctx.staff["dr.berg"]}, patients_b, types_b, rooms_b,
                           ctx.staff["dr.berg"], rng)
    ctx.notes.append(f"Schedule: {len(made)} appointments this week (today in progress as of "
                     f"{IN_PROGRESS_AT:%H:%M}); open it at /schedule/.")
