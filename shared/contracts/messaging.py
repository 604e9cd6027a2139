"""Events the messaging service publishes on ``roofline.messaging.events``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.base import EventData, Facts, catalogued, decision_point

ThreadKind = Literal["job", "ticket", "direct"]
SurveySubject = Literal["job", "ticket"]


@catalogued("messaging.thread_opened.v1")
class ThreadOpened(EventData):
    """A job's thread is open (jobs counts it as messaging's acknowledgement of the lead)."""

    job_id: str
    thread_id: str


@catalogued("messaging.message_posted.v1")
class MessagePosted(EventData):
    thread_id: str
    kind: ThreadKind
    subject_id: str | None = Field(None, description="The job or ticket; None for a direct one.")
    message_id: str
    seq: int = Field(description="The message's place in its thread: 1, 2, ...")
    author_id: str
    attachments: int = Field(0, ge=0, description="How many attachments it references.")
    posted_at: datetime


@catalogued("messaging.messages_read.v1")
class MessagesRead(EventData):
    """A reader marked a thread read up to ``up_to_seq`` (the read receipt)."""

    thread_id: str
    reader_id: str
    up_to_seq: int
    messages: int = Field(ge=1, description="How many messages this marked read.")
    read_at: datetime = Field(description="When the server recorded the read.")
    client_read_at: datetime | None = Field(
        None, description="When the reader's app displayed it, as the client reported."
    )


@catalogued("messaging.survey_answered.v1")
class SurveyAnswered(EventData):
    """A customer answered a satisfaction survey. Billing's collection policy reads ``rating``
    (a rating at or below its threshold is an unhappy customer)."""

    survey_id: str
    subject: SurveySubject
    job_id: str | None
    ticket_id: str | None = None
    crew_id: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    rating: int = Field(ge=1, le=5, description="The overall rating, 1-5.")
    form_version: int = Field(description="The version of the tenant's questions answered.")
    answered_at: datetime


@decision_point(
    "messaging.send_survey",
    "Whether, and how long after, a completed job or ticket gets a satisfaction survey (seed 001).",
)
class SurveyFacts(Facts):
    """What the ``surveys`` policy decides on: the work that was completed."""

    subject: SurveySubject
    trades: list[str] = Field(default_factory=list)
    has_email: bool = Field(description="The customer has an email address to send it to.")
