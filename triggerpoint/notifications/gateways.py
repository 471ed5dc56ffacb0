"""Message gateways. Email goes through Django's email backend (SMTP in production,
a real aiosmtpd server in tests). SMS goes through this small interface; the default
records messages, because no SMS provider is reachable from here — a clinic plugs in
its provider by setting SMS_GATEWAY to a class with the same `send` method."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


class DeliveryError(Exception):
    """The gateway could not hand the message over; the outbox retries it later."""


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str


class RecordingSmsGateway:
    """Keeps sent messages in memory (development and tests)."""

    sent: list[SentSms] = []

    def send(self, to: str, body: str) -> None:
        if not to:
            raise DeliveryError("no phone number")
        RecordingSmsGateway.sent.append(SentSms(to=to, body=body))


def sms_gateway():
    return import_string(settings.SMS_GATEWAY)()


def send_email(to: str, subject: str, body: str, attachments: list[dict] | tuple = ()) -> None:
    """Send one email; `attachments` are the outbox row's files (filename, content_type, text content)."""
    try:
        message = EmailMessage(subject=subject, body=body, to=[to])
        for item in attachments:
            message.attach(item["filename"], item["content"], item["content_type"])
        message.send(fail_silently=False)
    except (OSError, Exception) as exc:  # smtplib errors subclass OSError or SMTPException
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
