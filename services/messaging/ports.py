"""What the messaging handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from services.messaging.domain import Thread, ThreadRecord
from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailStatus, OutgoingEmail
from services.messaging.domain.notifications import Delivery
from shared.platform.settings import Settings
from shared.platform.storage.uow import ServiceUnitOfWork


class ThreadStore(Protocol):
    async def add(self, thread: Thread) -> bool:
        """Open the job's thread; False if it has one already (a replayed lead)."""
        ...

    async def get(self, job_id: str) -> ThreadRecord | None: ...


class ThreadMemberStore(Protocol):
    async def replace(self, job_id: str, user_ids: Sequence[str]) -> None:
        """The job's crew now: a crew assigned again replaces the members before it."""
        ...

    async def includes(self, job_id: str, user_id: str) -> bool: ...


class DirectoryStore(Protocol):
    async def put(self, person: Person) -> None: ...
    async def all(self) -> list[Person]: ...
    async def with_role(self, role: str) -> list[Person]: ...


class NoticeStore(Protocol):
    async def deliver(self, delivery: Delivery, now: datetime) -> bool:
        """The inbox item and its email, once: False if this delivery was made before."""
        ...

    async def inbox_of(self, user_id: str, *, unread_only: bool) -> list[dict[str, Any]]: ...
    async def email_log(self, email_id: str) -> list[tuple[EmailStatus, datetime, str | None]]:
        """Each step of the email (queued, sending, sent, deferred, failed, in doubt)."""
        ...


class MailQueue(Protocol):
    """The email worker's view of the queue, across tenants."""

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


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Hand the email to the mail server; raises ``MailRefused`` (``permanent`` or not)."""
        ...


@dataclass(frozen=True)
class MessagingRepositories:
    threads: ThreadStore
    members: ThreadMemberStore
    directory: DirectoryStore
    notices: NoticeStore


MessagingUnitOfWork = ServiceUnitOfWork[MessagingRepositories]


@dataclass
class MessagingDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], MessagingUnitOfWork]  # by tenant
    # A transaction over the email queue across tenants (the worker's), and the mail server.
    mail_queue: Callable[[], AbstractAsyncContextManager[MailQueue]]
    mailer: Mailer
    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
