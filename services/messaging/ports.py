"""What the messaging handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.messaging.domain import Thread, ThreadRecord
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


@dataclass(frozen=True)
class MessagingRepositories:
    threads: ThreadStore
    members: ThreadMemberStore


MessagingUnitOfWork = ServiceUnitOfWork[MessagingRepositories]


@dataclass(frozen=True)
class MessagingDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], MessagingUnitOfWork]  # by tenant
