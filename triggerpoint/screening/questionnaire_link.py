"""The patient's questionnaire link: sent by email or SMS, expiring, opening one screening and nothing else.

Apart from the screening's steps (``services``) because it is the one place screening talks to
notifications (tokens, the outbox, the message in the patient's language).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.notifications import services as notifications
from triggerpoint.screening.content import load_patient_text
from triggerpoint.screening.models import ScreeningRecord
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.services import ScreeningStateError, preparation_for
from triggerpoint.screening.wording import language_of

QUESTIONNAIRE_PURPOSE = "screening.questionnaire"
QUESTIONNAIRE_LINK_VALID_FOR = timedelta(days=7)


@transaction.atomic
def send_questionnaire_link(user, screening: ScreeningRecord, *, channel: str = "email"):
    """Send the patient a tokenised, expiring link to this screening's questionnaire (email or SMS)."""
    require(user, "screening.send_link", screening)
    patient = screening.patient
    if channel not in ("email", "sms"):
        raise ValueError("channel must be email or sms")
    to = patient.email if channel == "email" else patient.phone
    if not to:
        raise ScreeningStateError(f"The chart has no {'email address' if channel == 'email' else 'phone number'}.")
    link, raw_token = notifications.issue_link(patient, QUESTIONNAIRE_PURPOSE, screening, QUESTIONNAIRE_LINK_VALID_FOR)
    url = notifications.link_url(reverse("screening:questionnaire_link", args=[raw_token]))
    clinic = patient.clinic
    subject, body = questionnaire_link_message(patient, screening, url, timezone.localtime(link.expires_at).date(),
                                               channel)
    note = notifications.enqueue(
        clinic=clinic,
        kind="screening.questionnaire",
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        idempotency_key=f"screening.questionnaire:{link.pk}",
        patient=patient,
        related=screening,
        link=link,
    )
    audit.record(
        "screening.questionnaire.link_sent",
        obj=screening,
        details={"channel": channel, "link_id": link.pk, "expires_at": link.expires_at.isoformat()},
    )
    return note


def questionnaire_link_message(patient, screening: ScreeningRecord, url: str, expires: date,
                               channel: str) -> tuple[str, str]:
    """The link message's subject and body in the patient's language (words in data/patient_text.yaml)."""
    language = language_of(patient)
    words = load_patient_text().group("messages", language)
    clinic = patient.clinic
    values = {
        "name": patient.given_name, "clinic": clinic.name, "phone": clinic.phone, "url": url,
        "day": patient_date(screening.planned_procedure_date, language), "until": patient_date(expires, language),
    }
    if channel != "email":
        return "", words["sms"].format(**values)
    until = words["email_until_phone" if clinic.phone else "email_until"]
    body = "\n\n".join([
        words["email_greeting"].format(**values),
        words["email_intro"].format(**values),
        url,
        until.format(**values),
        clinic.name,
    ])
    return words["email_subject"].format(**values), body


def preparation_message(patient, screening: ScreeningRecord, url: str, expires: date,
                        channel: str) -> tuple[str, str]:
    """The questionnaire-link message with the preparation instructions written out in it.

    Sent days before a booked procedure (scheduling.patient_messages): the patient reads how to get
    ready without opening anything, and the link leads to the questions. An SMS stays the short
    link message (the instructions are one tap away on the questionnaire page).
    """
    subject, body = questionnaire_link_message(patient, screening, url, expires, channel)
    if channel != "email":
        return subject, body
    language = language_of(patient)
    heading = load_patient_text().group("portal", language)["how_to_get_ready"]
    instructions = "\n".join(f"• {item.text}" for item in preparation_for(screening, language))
    parts = body.split("\n\n")
    parts[-2:-2] = [f"{heading}:\n{instructions}"]  # before "the link works until ..." and the signature
    return subject, "\n\n".join(parts)


def screening_for_link(raw_token: str) -> ScreeningRecord:
    """The one screening a questionnaire link opens; raises `LinkInvalid` for any other use of the token."""
    link = notifications.resolve_link(raw_token, QUESTIONNAIRE_PURPOSE)
    screening = ScreeningRecord.objects.select_related("patient", "clinic").filter(
        public_id=link.target_id, patient_id=link.patient_id
    ).first()
    if screening is None:
        raise notifications.LinkInvalid("This link is not valid.")
    return screening
