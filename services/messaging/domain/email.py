"""An email on its way: queued in the transaction of the change that causes it, sent by the
worker, its every step in the email's log.

queued -> sending -> sent, or back to queued (deferred, after a backoff) on a failure that may
pass, or failed (refused for good, or out of attempts). One left ``sending`` past its lease was
cut off mid-send (a crash between the server's acceptance and the bookkeeping): it is held
``in_doubt`` and never sent again by itself, so no email goes twice; an operator can queue it
again. Each email's id is its idempotency key (a repeated cause queues nothing new) and its
``Message-ID``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

EmailStatus = Literal["queued", "sending", "sent", "failed", "in_doubt", "bounced"]
# What an email is about: a policy notice, a new message, a new assignment, a survey, a
# lender's financing link.
EmailKind = Literal["notice", "message", "assignment", "survey", "financing"]


class OutgoingEmail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email_id: str
    tenant_id: str
    to_user: str
    to_address: str
    subject: str
    body: str
    kind: EmailKind = "notice"

    @field_validator("subject")
    @classmethod
    def one_line(cls, subject: str) -> str:
        """A subject is one header line: whatever titles it is made of (a customer's name, a
        thread's title), line breaks become spaces and it is cut to a readable length."""
        flat = " ".join(subject.split())
        return flat if len(flat) <= 200 else flat[:199] + "…"

    @property
    def message_id(self) -> str:
        return f"<{self.email_id}@roofline>"


class MailRefused(Exception):
    """The mail server did not take the email: ``permanent`` if it refused it for good (5xx);
    anything else (down, 4xx, a timeout) may pass and is retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def backoff(attempts: int, base_s: float, cap_s: float = 3600.0) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: doubling, capped."""
    return timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), cap_s))


def after_failure(
    attempts: int, max_attempts: int, *, permanent: bool, now: datetime, base_s: float
) -> tuple[EmailStatus, datetime | None]:
    """Where a failed send leaves the email: failed for good, or queued again and when."""
    if permanent or attempts >= max_attempts:
        return "failed", None
    return "queued", now + backoff(attempts, base_s)
