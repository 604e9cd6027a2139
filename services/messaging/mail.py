"""Handing an email to the SMTP server (``ROOFLINE_SMTP_*``): the adapter behind the
``Mailer`` port. A refusal the server means for good (5xx) is ``permanent``; anything else (the
server down, 4xx, a timeout) may pass and is retried."""

from __future__ import annotations

import html
from email.message import EmailMessage

import aiosmtplib

from services.messaging.domain.email import MailRefused, OutgoingEmail
from services.messaging.links import Links
from shared.platform.settings import Settings


class SmtpMailer:
    def __init__(self, settings: Settings, links: Links) -> None:
        self.settings = settings
        self.links = links

    async def send(self, email: OutgoingEmail) -> None:
        try:
            message = self.message(email)
        except (ValueError, TypeError) as exc:  # e.g. an address the email package refuses
            raise MailRefused(f"not a sendable email: {exc}", permanent=True) from exc
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

    def message(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message["Message-ID"] = email.message_id
        message.set_content(email.body)
        # The HTML part carries the open-tracking pixel (a client showing images reports it).
        message.add_alternative(
            f'<html><body><pre style="font-family:inherit;white-space:pre-wrap">'
            f"{html.escape(email.body)}</pre>"
            f'<img src="{self.links.pixel_url(email.email_id)}" width="1" height="1" alt="">'
            "</body></html>",
            subtype="html",
        )
        return message
