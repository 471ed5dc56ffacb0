"""An appointment as an iCalendar (.ics) file attached to the patient's confirmation.

Built with the `icalendar` library like the aftercare plan's calendar (aftercare/calendar.py):
nothing is hand-serialised. The UID is derived from the appointment's public id and SEQUENCE
from its version, so the file sent after a move (or a cancellation, STATUS:CANCELLED) updates
the event already in the patient's calendar instead of adding a second one. Times are written
in UTC: the patient's phone shows them on its own clock, and a daylight-saving change cannot
shift them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

PRODID = "-//Trigger Point Clinic//Appointment//EN"


def appointment_uid(appointment) -> str:
    return f"appointment-{appointment.public_id}@triggerpoint"


def clinic_location(clinic) -> str:
    """Where the visit is: the clinic's name, then its address when the clinic has set one."""
    address = " ".join((clinic.address or "").split())
    return f"{clinic.name}, {address}" if address else clinic.name


def appointment_to_ics(appointment, *, summary: str, description: str, cancelled: bool = False,
                       dtstamp: datetime | None = None) -> bytes:
    """One VEVENT for `appointment` (summary and description already in the patient's language)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", (dtstamp or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("sequence", appointment.version)
    event.add("summary", summary)
    event.add("location", clinic_location(appointment.clinic))
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
