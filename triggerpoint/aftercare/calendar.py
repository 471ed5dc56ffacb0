"""An aftercare plan as an iCalendar (.ics) file the patient can add to their phone.

One all-day event per plan day, holding that day's tasks, so the phone's calendar
shows "what to do today" without the portal. UIDs are derived from the plan's key,
so re-sending an updated plan replaces the events instead of duplicating them.
Built with the `icalendar` library; nothing is hand-serialised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from triggerpoint.aftercare.plan import AftercarePlan

PRODID = "-//Trigger Point Clinic//Aftercare plan//EN"

# Interface wording, not clinical content, so it stays beside the code that uses it.
CALENDAR_TEXT = {
    "en": {
        "day_title": "Aftercare day {day}",
        "calendar_name": "Aftercare plan",
        "calendar_name_for": "Aftercare plan for {name}",
        "questions": "Questions? Call {clinic} at {phone}.",
        "questions_no_phone": "Questions? Call {clinic}.",
    },
    "es": {
        "day_title": "Cuidados después de la inyección, día {day}",
        "calendar_name": "Plan de cuidados",
        "calendar_name_for": "Plan de cuidados de {name}",
        "questions": "¿Preguntas? Llame a {clinic} al {phone}.",
        "questions_no_phone": "¿Preguntas? Llame a {clinic}.",
    },
}


def plan_to_ics(
    plan: AftercarePlan,
    patient_display_name: str | None = None,
    *,
    clinic_name: str,
    clinic_phone: str,
    plan_key: str | None = None,
    dtstamp: datetime | None = None,
) -> bytes:
    """Serialise `plan` as an RFC 5545 calendar with one all-day VEVENT per day.

    `plan_key` should be the stored plan's id; without it the plan's content
    fingerprint is used (stable, but shared by identical plans). `dtstamp` defaults
    to now in UTC. The patient's name, if given, appears only in the calendar's name.
    """
    text = CALENDAR_TEXT.get(plan.language, CALENDAR_TEXT["en"])
    key = plan_key or plan.fingerprint
    stamp = (dtstamp or datetime.now(UTC)).astimezone(UTC)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar_name = (
        text["calendar_name_for"].format(name=patient_display_name)
        if patient_display_name
        else text["calendar_name"]
    )
    calendar.add("x-wr-calname", calendar_name)

    questions = (
        text["questions"].format(clinic=clinic_name, phone=clinic_phone)
        if clinic_phone.strip()
        else text["questions_no_phone"].format(clinic=clinic_name)
    )
    for day in plan.days:
        event = Event()
        event.add("uid", f"aftercare-{key}-day-{day.day_number}@triggerpoint")
        event.add("dtstamp", stamp)
        event.add("dtstart", day.date)
        event.add("dtend", day.date + timedelta(days=1))
        event.add("summary", f"{text['day_title'].format(day=day.day_number)} · {clinic_name}")
        lines = [f"• {task.text}" for task in day.tasks]
        event.add("description", "\n".join([*lines, "", questions]))
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["Aftercare"])
        calendar.add_component(event)
    return calendar.to_ical()
