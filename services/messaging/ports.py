"""What the messaging handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel

from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailStatus, OutgoingEmail
from services.messaging.domain.notifications import Delivery
from services.messaging.domain.portal import WorkFacts
from services.messaging.domain.surveys import FormQuestions, Survey, SurveyForm
from services.messaging.domain.threads import (
    Message,
    NewMessage,
    Participant,
    ParticipantRole,
    SeenBy,
    ThreadInfo,
    ThreadSummary,
)
from services.messaging.domain.webhooks import DeliveryReport
from services.messaging.links import Links
from services.messaging.metrics import MessagingMetrics
from shared.platform.settings import Settings
from shared.platform.storage.uow import ServiceUnitOfWork
from shared.policy.decider import Decider


class ReadRecord(BaseModel):
    """A message newly marked read, and who wrote it (who gets the receipt)."""

    seq: int
    author_id: str


class FeedEvent(BaseModel):
    """One event of a user's live feed; ``seq`` is its ``id:`` in the stream."""

    seq: int
    kind: str
    data: dict[str, Any]
    at: datetime


class SurveyStats(BaseModel):
    sent: int
    answered: int
    average_rating: Decimal | None


class ThreadStore(Protocol):
    async def open(self, thread: ThreadInfo, opened_by: str) -> bool:
        """False if the job or ticket has its thread already (a replayed event)."""
        ...

    async def get(self, thread_id: str) -> ThreadInfo | None: ...
    async def lock(self, thread_id: str) -> None:
        """Hold the thread until commit (posts to one thread take their turns)."""
        ...

    async def of_subject(self, kind: str, subject_id: str) -> ThreadInfo | None: ...
    async def participant(self, thread_id: str, user_id: str) -> Participant | None: ...
    async def participants_of(self, thread_id: str) -> list[Participant]: ...
    async def join(
        self, thread_id: str, user_ids: Iterable[str], role: ParticipantRole, now: datetime
    ) -> list[str]:
        """Make them active participants; returns those who were not active before."""
        ...

    async def leave(self, thread_id: str, user_ids: Iterable[str]) -> None: ...
    async def by_client_key(self, thread_id: str, author_id: str, key: str) -> Message | None: ...
    async def post(
        self, thread_id: str, author_id: str, new: NewMessage, message_id: str, now: datetime
    ) -> Message: ...
    async def message(self, thread_id: str, seq: int) -> Message | None: ...
    async def page(self, thread_id: str, *, before: int | None, limit: int) -> list[Message]: ...
    async def mark_read(
        self,
        thread_id: str,
        user_id: str,
        up_to: int,
        read_at: datetime,
        client_read_at: datetime | None,
    ) -> list[ReadRecord]: ...
    async def seen_by(self, thread_id: str, seq: int) -> list[SeenBy]: ...
    async def threads_of(self, user_id: str) -> list[ThreadSummary]: ...


class FeedStore(Protocol):
    async def push(
        self, user_ids: Sequence[str], kind: str, data: dict[str, Any], at: datetime
    ) -> None: ...
    async def after(self, user_id: str, seq: int, limit: int) -> list[FeedEvent]: ...


class PortalStore(Protocol):
    async def get(self, kind: str, subject_id: str) -> WorkFacts | None: ...
    async def get_for_update(self, kind: str, subject_id: str) -> WorkFacts | None: ...
    async def put(self, facts: WorkFacts, now: datetime) -> None: ...
    async def assigned_to(self, user_id: str) -> list[WorkFacts]: ...


class DirectoryStore(Protocol):
    async def put(self, person: Person) -> None: ...
    async def all(self) -> list[Person]: ...
    async def some(self, user_ids: Sequence[str]) -> list[Person]: ...
    async def with_role(self, role: str) -> list[Person]: ...


class NoticeStore(Protocol):
    async def deliver(self, delivery: Delivery, now: datetime) -> bool:
        """The inbox item and its email, once: False if this delivery was made before."""
        ...

    async def queue(self, email: OutgoingEmail, *, send_at: datetime, now: datetime) -> bool:
        """Queue the email once; to an address that bounced hard it is failed at once."""
        ...

    async def read_item(self, user_id: str, item_id: str, at: datetime) -> bool: ...
    async def requeue(self, email_id: str, at: datetime, by: str) -> EmailStatus | None:
        """Queue again an email held in doubt or failed; its status after (None: no such)."""
        ...

    async def inbox_of(self, user_id: str, *, unread_only: bool) -> list[dict[str, Any]]: ...
    async def email_log(self, email_id: str) -> list[tuple[EmailStatus, datetime, str | None]]:
        """Each step of the email (queued, sending, sent, deferred, failed, in doubt, ...)."""
        ...


class SurveyStore(Protocol):
    async def form(self, version: int | None = None) -> SurveyForm | None: ...
    async def new_form(self, questions: FormQuestions, by: str, now: datetime) -> SurveyForm: ...
    async def add(self, survey: Survey) -> bool: ...
    async def get(self, survey_id: str) -> Survey | None: ...
    async def answer(
        self, survey_id: str, *, rating: int, answers: dict[str, Any], at: datetime
    ) -> bool:
        """Record the answers once: False if the survey was answered meanwhile."""
        ...

    async def ratings(self, by: str) -> list[dict[str, Any]]: ...


class MailQueue(Protocol):
    """The email worker's and the delivery reports' view of the queue, across tenants."""

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int
    ) -> list[OutgoingEmail]: ...
    async def attempts(self, email_id: str) -> int: ...
    async def settle(
        self,
        email_id: str,
        status: EmailStatus,
        now: datetime,
        *,
        next_attempt_at: datetime | None = None,
        detail: str | None = None,
    ) -> None: ...
    async def hold_cut_off(self, now: datetime) -> list[str]: ...
    async def first_use(self, token: str, at: datetime, forget_before: datetime) -> bool:
        """Record a webhook signature's token: False if it was used before."""
        ...

    async def report(self, report: DeliveryReport) -> OutgoingEmail | None: ...
    async def opened(self, email_id: str, at: datetime) -> bool: ...
    async def suppress(self, tenant_id: str, address: str, reason: str, at: datetime) -> int: ...
    async def counts(self) -> dict[str, int]: ...


class Stats(Protocol):
    """Figures across tenants, for the gauges."""

    async def oldest_unread(self) -> dict[str, datetime]: ...
    async def surveys_stats(self, now: datetime) -> SurveyStats: ...


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Hand the email to the mail server; raises ``MailRefused`` (``permanent`` or not)."""
        ...


@dataclass(frozen=True)
class MessagingRepositories:
    threads: ThreadStore
    feed: FeedStore
    portal: PortalStore
    directory: DirectoryStore
    notices: NoticeStore
    surveys: SurveyStore


MessagingUnitOfWork = ServiceUnitOfWork[MessagingRepositories]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MessagingDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], MessagingUnitOfWork]  # by tenant
    # A transaction over the email queue across tenants (the worker's), and the mail server.
    mail_queue: Callable[[], AbstractAsyncContextManager[MailQueue]]
    mailer: Mailer
    # A read-only view across tenants, for the gauges.
    stats: Callable[[], AbstractAsyncContextManager[Stats]]
    policy: Decider
    links: Links
    settings: Settings
    metrics: MessagingMetrics = field(default_factory=MessagingMetrics)
    clock: Callable[[], datetime] = field(default=utc_now)
