"""Email over SMTP (aiosmtplib). SMTP has no idempotency key, so the delivery key becomes the
Message-ID: a retry after a lost reply carries the same id, which mail systems de-duplicate on."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from engine.delivery.channels.base import (
    OutgoingMessage,
    PermanentDeliveryError,
    Receipt,
    TransientDeliveryError,
)
from engine.settings import Settings


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key.replace(':', '.')}@journeys>"


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to or ""
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id(message.idempotency_key)
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def deliver(self, message: OutgoingMessage) -> Receipt:
        settings = self._settings
        try:
            _refused, reply = await aiosmtplib.send(
                build_email(message, settings.email_from),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                start_tls=settings.smtp_starttls,
                use_tls=settings.smtp_tls,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as error:
            # 5xx is the server saying "never"; 4xx (greylisting, full mailbox) is "later".
            if 500 <= error.code < 600:
                raise PermanentDeliveryError(f"SMTP {error.code}: {error.message}") from error
            raise TransientDeliveryError(f"SMTP {error.code}: {error.message}") from error
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise PermanentDeliveryError(f"SMTP recipient refused: {error.recipients}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise TransientDeliveryError(f"SMTP {type(error).__name__}: {error}") from error
        return Receipt(adapter="smtp", detail=reply)
