"""Handing an email to the SMTP server (``ROOFLINE_SMTP_*``): the adapter behind the
``Mailer`` port. A refusal the server means for good (5xx) is ``permanent``; anything else (the
server down, 4xx, a timeout) may pass and is retried."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from services.messaging.domain.email import MailRefused, OutgoingEmail
from shared.platform.settings import Settings


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, email: OutgoingEmail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message["Message-ID"] = email.message_id
        message.set_content(email.body)
        password = self.settings.smtp_password
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                username=self.settings.smtp_username,
                password=password.get_secret_value() if password else None,
                start_tls=self.settings.smtp_starttls,
                timeout=self.settings.smtp_timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise MailRefused(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailRefused(repr(exc), permanent=False) from exc
