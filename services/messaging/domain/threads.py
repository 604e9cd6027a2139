"""Threads and messages of the installer portal, and read tracking (seed 001, "Installer
Portal": messages with read receipts, both the time the server recorded the read and the
client's own read timestamp).

A thread is a job's, a service ticket's, or a direct one between the office and one installer.
Its participants are the field workers assigned to the work (who lose access when unassigned:
what they wrote stays) and the office staff who follow it. Each participant has read up to a
place in the thread (``read_up_to``); marking read up to a message records, for each message up
to it that someone else wrote, the server's read time and the client's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.contracts.messaging import ThreadKind

# A field worker is on the thread while assigned; the office follows it.
ParticipantRole = Literal["field", "office"]


class Attachment(BaseModel):
    """A file referenced by a message: where it is stored, never its bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        min_length=3, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$", examples=["image/jpeg"]
    )
    size_bytes: int = Field(ge=0, le=5 * 1024**3)
    location: str = Field(min_length=1, max_length=1000, examples=["s3://bucket/ivan/ridge.jpg"])


class NewMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    body: str = Field("", max_length=10_000)
    attachments: tuple[Attachment, ...] = Field((), max_length=20)
    client_key: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The client's id for this message: a retried post with it is kept once.",
    )

    @model_validator(mode="after")
    def says_something(self) -> NewMessage:
        if not self.body.strip() and not self.attachments:
            raise ValueError("a message needs a body or at least one attachment")
        return self


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    thread_id: str
    seq: int
    message_id: str
    author_id: str
    body: str
    attachments: tuple[Attachment, ...] = ()
    posted_at: datetime


class SeenBy(BaseModel):
    """One reader of a message: when the server recorded it, and when their app showed it."""

    user_id: str
    read_at: datetime
    client_read_at: datetime | None


class MarkRead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    up_to_seq: int = Field(ge=1, description="Everything up to this message is read.")
    client_read_at: AwareDatetime | None = Field(
        None, description="When the reader's app displayed it (ISO 8601 with a time zone)."
    )


class ThreadInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    thread_id: str
    kind: ThreadKind
    subject_id: str | None
    title: str
    opened_at: datetime
    last_seq: int = 0
    last_message_at: datetime | None = None


class ThreadSummary(ThreadInfo):
    unread: int = Field(description="Messages by others the caller has not read.")


class Participant(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    role: ParticipantRole
    active: bool
    read_up_to: int = 0


class ThreadNotFound(LookupError):
    """No such thread that the caller may read (another tenant's, or for an installer, one
    they are not assigned to: as if it did not exist)."""


class MessageNotFound(LookupError):
    """No such message in the thread."""


class InvalidReadTime(ValueError):
    """The client's read time cannot be true: in the future, or before the message existed."""

    @property
    def extensions(self) -> dict[str, object]:
        return {"errors": [{"field": "client_read_at", "message": str(self)}]}


def may_read(*, office: bool, participant: Participant | None) -> bool:
    """The office reads every thread of the tenant; a field worker only while assigned."""
    return office or (participant is not None and participant.active)


def check_client_read_at(
    client_read_at: datetime | None, *, posted_at: datetime, now: datetime, skew: timedelta
) -> None:
    """The client's clock is trusted only within ``skew`` of the server's: a read time later
    than now, or earlier than the message it marks read, is refused."""
    if client_read_at is None:
        return
    if client_read_at > now + skew:
        raise InvalidReadTime(
            f"client_read_at {client_read_at.isoformat()} is in the future "
            f"(server time {now.isoformat()})"
        )
    if client_read_at < posted_at - skew:
        raise InvalidReadTime(
            f"client_read_at {client_read_at.isoformat()} is before the message was posted "
            f"({posted_at.isoformat()})"
        )
