"""What the patient receives about an appointment, timed to it: confirmation, reminder, preparation.

Receivers of the scheduling signals (connected in apps.py), so they write their outbox rows inside
the transaction that booked, moved or cancelled the appointment: a refused or rolled-back change
sends nothing.

- **Booked:** a confirmation now (with the visit as an .ics file and a tokenised link to confirm or
  ask for another time), a reminder `REMINDER_BEFORE` the visit, and for a procedure the
  preparation instructions with the screening questionnaire link, `preparation_days_before` days
  before (a per-clinic value of the screening policy, default 3, set in ClinicScreeningPolicy).
- **Moved:** the waiting reminder and preparation are cancelled and new ones scheduled for the new
  time; the patient gets a "your appointment has moved" message with an updated .ics (same UID,
  higher SEQUENCE, so the phone's calendar moves the event); live appointment links now expire
  at the new time.
- **Screening planned later:** a procedure booked before its screening existed gets the preparation
  when the screening for its day is created (`screening.signals.screening_created`).
- **Cancelled:** every waiting message of the appointment is cancelled (never sent) and its links
  are revoked.

Idempotent: every message's key is the appointment and its version, so a signal delivered twice or
a retried request never sends a second message, and a moved appointment (a new version) gets new
ones. The patient's language and channel come from the chart (preferred language; preferred
channel when the chart has that address).

Layers: scheduling sits on its own line above screening (pyproject), so this module may use
screening's preparation content and questionnaire link directly. The schedule is what times the
preparation, so the dependency points from the schedule to the screening, never back: screening
knows nothing of appointments.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.selectors import message_exists
from triggerpoint.patients.language import page_language
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.scheduling import rules, signals
from triggerpoint.scheduling.calendar import appointment_to_ics
from triggerpoint.scheduling.models import Appointment, AppointmentKind
from triggerpoint.screening import facts as screening_facts
from triggerpoint.screening import questionnaire_link
from triggerpoint.screening import signals as screening_signals
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.selectors import screening_planned_for

LINK_PURPOSE = "scheduling.appointment"
CONFIRMATION = "scheduling.confirmation"
MOVED = "scheduling.moved"
REMINDER = "scheduling.reminder"
PREPARATION = "scheduling.preparation"
#: The reminder goes out this long before the visit (none when the booking is made later than that).
REMINDER_BEFORE = timedelta(hours=24)
#: The preparation message goes out at this time of day on the clinic's clock, N days before.
PREPARATION_SEND_AT = time(9, 0)

# Interface wording, not clinical content, so it stays beside the code that uses it (as in
# aftercare/calendar.py). Written in plain words for patients; the Spanish is written, not translated
# word for word.
WORDS = {
    "en": {
        "kind": {
            AppointmentKind.ASSESSMENT: "assessment visit",
            AppointmentKind.PROCEDURE: "trigger point injection visit",
            AppointmentKind.FOLLOW_UP: "follow-up visit",
            AppointmentKind.REMOTE_FOLLOW_UP: "phone or video follow-up",
        },
        "confirmation_subject": "Your visit to {clinic} on {day}",
        "moved_subject": "New time for your visit to {clinic}: {day}",
        "reminder_subject": "Reminder: your visit to {clinic} on {day}",
        "greeting": "Hello {name},",
        "booked": "Your {what} at {clinic} is booked for {day} at {time}.",
        "moved": "Your {what} at {clinic} has moved. The new time is {day} at {time}.",
        "reminder": "This is a reminder of your {what} at {clinic} on {day} at {time}.",
        "link": "Please tell us you are coming, or ask for another time, here:",
        "attached": "The attached calendar file adds the visit to your phone or computer calendar.",
        "questions_phone": "Questions? Call us at {phone}.",
        "questions": "Questions? Call the clinic.",
        "sms_booked": "{clinic}: your visit is booked for {day} at {time}. Confirm or ask for another time: {url}",
        "sms_moved": "{clinic}: your visit has moved to {day} at {time}. Confirm or ask for another time: {url}",
        "sms_reminder": "{clinic}: reminder of your visit on {day} at {time}. Confirm or ask for another time: {url}",
        "ics_summary": "{what} at {clinic}",
    },
    "es": {
        "kind": {
            AppointmentKind.ASSESSMENT: "consulta de evaluación",
            AppointmentKind.PROCEDURE: "cita para la inyección en puntos gatillo",
            AppointmentKind.FOLLOW_UP: "consulta de seguimiento",
            AppointmentKind.REMOTE_FOLLOW_UP: "seguimiento por teléfono o video",
        },
        "confirmation_subject": "Su cita en {clinic} el {day}",
        "moved_subject": "Nueva hora de su cita en {clinic}: {day}",
        "reminder_subject": "Recordatorio: su cita en {clinic} el {day}",
        "greeting": "Hola, {name}:",
        "booked": "Tiene una {what} en {clinic} el {day} a las {time}.",
        "moved": "Cambiamos su {what} en {clinic}. Ahora es el {day} a las {time}.",
        "reminder": "Le recordamos su {what} en {clinic} el {day} a las {time}.",
        "link": "Por favor, avísenos que va a venir, o pida otra fecha, aquí:",
        "attached": "Con el archivo de calendario adjunto puede guardar la cita en su teléfono o computadora.",
        "questions_phone": "¿Preguntas? Llámenos al {phone}.",
        "questions": "¿Preguntas? Llame a la clínica.",
        "sms_booked": "{clinic}: su cita es el {day} a las {time}. Confírmela o pida otra fecha aquí: {url}",
        "sms_moved": "{clinic}: su cita cambió al {day} a las {time}. Confírmela o pida otra fecha aquí: {url}",
        "sms_reminder": "{clinic}: le recordamos su cita del {day} a las {time}. Confírmela o pida otra fecha: {url}",
        "ics_summary": "{what} en {clinic}",
    },
}


def words_for(patient) -> tuple[str, dict]:
    language = page_language(patient)
    return language, WORDS.get(language, WORDS["en"])


def local_time(moment: datetime, language: str) -> str:
    """A time of day as patients read it: "2:30 PM" in English, "14:30" in Spanish."""
    if language == "es":
        return f"{moment:%H:%M}"
    return f"{moment:%I:%M %p}".lstrip("0")


def visit_values(appointment: Appointment, language: str, words: dict, url: str = "") -> dict[str, str]:
    clinic, patient = appointment.clinic, appointment.patient
    start = appointment.starts_at.astimezone(clinic.zone)
    return {"name": patient.given_name, "clinic": clinic.name, "phone": clinic.phone, "url": url,
            "what": words["kind"].get(appointment.appointment_type.kind, appointment.appointment_type.name),
            "day": patient_date(start.date(), language), "time": local_time(start, language)}


def _appointment_link(appointment: Appointment):
    """A link to confirm or ask for another time, usable until the visit starts (then nothing is left to do)."""
    link, raw = outbox.issue_link(appointment.patient, LINK_PURPOSE, appointment, expires_at=appointment.starts_at)
    return link, outbox.link_url(reverse("scheduling:patient_link", args=[raw]))


def _ics(appointment: Appointment, words: dict, values: dict, description: str) -> list[dict]:
    summary = words["ics_summary"].format(**values)
    summary = summary[:1].upper() + summary[1:]
    content = appointment_to_ics(appointment, summary=summary, description=description).decode()
    return [{"filename": "appointment.ics", "content_type": "text/calendar", "content": content}]


def _visit_message(appointment: Appointment, which: str, send_after: datetime | None = None):
    """The confirmation, moved notice or reminder of `appointment` (which: booked, moved, reminder)."""
    patient = appointment.patient
    address = outbox.patient_channel(patient)
    if address is None:
        return None
    channel, to = address
    language, words = words_for(patient)
    kind = {"booked": CONFIRMATION, "moved": MOVED, "reminder": REMINDER}[which]
    key = f"{kind}:{appointment.public_id}:{appointment.version}"
    if message_exists(key):  # a repeated signal: nothing new
        return None
    link, url = _appointment_link(appointment)
    values = visit_values(appointment, language, words, url)
    questions = words["questions_phone" if appointment.clinic.phone else "questions"].format(**values)
    if channel == "sms":
        subject, body, attachments = "", words[f"sms_{which}"].format(**values), []
    else:
        subject = words[{"booked": "confirmation_subject", "moved": "moved_subject",
                         "reminder": "reminder_subject"}[which]].format(**values)
        body = "\n\n".join([words["greeting"].format(**values), words[which].format(**values),
                            f"{words['link']}\n{url}", words["attached"], questions, appointment.clinic.name])
        attachments = _ics(appointment, words, values, "\n".join([words[which].format(**values), questions]))
    return outbox.enqueue(clinic=appointment.clinic, kind=kind, channel=channel, to=to, subject=subject, body=body,
                          idempotency_key=key, patient=patient, send_after=send_after, related=appointment,
                          link=link, attachments=attachments)


def preparation_screening(appointment: Appointment):
    """The screening for this procedure (a screening record, or None): the patient's screening planned for the
    appointment's day."""
    day = appointment.starts_at.astimezone(appointment.clinic.zone).date()
    return screening_planned_for(appointment.patient, day)


def preparation_time(appointment: Appointment, days_before: int) -> datetime:
    """`days_before` days before the visit at PREPARATION_SEND_AT on the clinic's clock (now if that has passed)."""
    zone = appointment.clinic.zone
    day = appointment.starts_at.astimezone(zone).date() - timedelta(days=days_before)
    return max(datetime.combine(day, PREPARATION_SEND_AT, tzinfo=zone), timezone.now())


def _preparation_message(appointment: Appointment):
    """The preparation instructions and questionnaire link of a procedure appointment (None otherwise)."""
    if appointment.appointment_type.kind != AppointmentKind.PROCEDURE:
        return None
    key = f"{PREPARATION}:{appointment.public_id}:{appointment.version}"
    if message_exists(key):
        return None
    screening = preparation_screening(appointment)
    address = outbox.patient_channel(appointment.patient)
    if screening is None or address is None:
        return None
    channel, to = address
    policy = screening_facts.policy_for(appointment.clinic)
    send_after = preparation_time(appointment, policy.preparation_days_before)
    # The link works from the message until the end of the visit (answers can be finished at the desk).
    link, raw = outbox.issue_link(appointment.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening,
                                  expires_at=appointment.ends_at)
    url = outbox.link_url(reverse("screening:questionnaire_link", args=[raw]))
    subject, body = questionnaire_link.preparation_message(
        appointment.patient, screening, url, link.expires_at.astimezone(appointment.clinic.zone).date(), channel)
    return outbox.enqueue(clinic=appointment.clinic, kind=PREPARATION, channel=channel, to=to, subject=subject,
                          body=body, idempotency_key=key, patient=appointment.patient, send_after=send_after,
                          related=appointment, link=link)


def _timed_messages(appointment: Appointment) -> None:
    """The reminder and (for a procedure) the preparation, timed to the appointment's current start."""
    reminder_at = appointment.starts_at - REMINDER_BEFORE
    if reminder_at > timezone.now():
        _visit_message(appointment, "reminder", send_after=reminder_at)
    _preparation_message(appointment)


def _withdraw_timed(appointment: Appointment, reason: str) -> int:
    return sum(outbox.cancel_pending(related=appointment, kind_prefix=kind, reason=reason)
               for kind in (REMINDER, PREPARATION))


def on_booked(sender, appointment: Appointment, **kwargs) -> None:
    _visit_message(appointment, "booked")
    _timed_messages(appointment)


def on_moved(sender, appointment: Appointment, previous_starts_at=None, **kwargs) -> None:
    _withdraw_timed(appointment, "the appointment moved; a new message is scheduled for the new time")
    outbox.set_link_expiry(LINK_PURPOSE, appointment, appointment.starts_at)
    _visit_message(appointment, "moved")
    _timed_messages(appointment)


def on_cancelled(sender, appointment: Appointment, **kwargs) -> None:
    outbox.cancel_pending(related=appointment, kind_prefix="scheduling.", reason="the appointment was cancelled")
    outbox.revoke_links(LINK_PURPOSE, appointment)


def on_status_changed(sender, appointment: Appointment, status=None, **kwargs) -> None:
    """A no-show or a finished visit: nothing is left to remind of or to confirm."""
    if status in (rules.NO_SHOW, rules.DONE):
        outbox.cancel_pending(related=appointment, kind_prefix="scheduling.", reason=f"the appointment is {status}")
        outbox.revoke_links(LINK_PURPOSE, appointment)


def on_screening_created(sender, screening, **kwargs) -> None:
    """A screening planned after its procedure was booked: the preparation message can now be scheduled."""
    zone = screening.clinic.zone
    day_start = datetime.combine(screening.planned_procedure_date, time(0), tzinfo=zone)
    booked = (Appointment.objects.select_related("patient", "clinic", "appointment_type")
              .filter(patient_id__in=chart_ids(screening.patient_id), appointment_type__kind=AppointmentKind.PROCEDURE,
                      status__in=(rules.BOOKED, rules.CONFIRMED), starts_at__gte=max(day_start, timezone.now()),
                      starts_at__lt=day_start + timedelta(days=1)))
    for appointment in booked:
        _preparation_message(appointment)


def connect() -> None:
    signals.appointment_booked.connect(on_booked, dispatch_uid="scheduling.patient_messages.booked")
    signals.appointment_moved.connect(on_moved, dispatch_uid="scheduling.patient_messages.moved")
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid="scheduling.patient_messages.cancelled")
    signals.appointment_status_changed.connect(on_status_changed, dispatch_uid="scheduling.patient_messages.status")
    screening_signals.screening_created.connect(on_screening_created,
                                                dispatch_uid="scheduling.patient_messages.screening_created")
