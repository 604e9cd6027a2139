"""What several messaging handlers share: the access rule on a thread, and email alerts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.messaging.domain.notifications import Alert, email_to, send_after
from services.messaging.domain.threads import Participant, ThreadInfo, ThreadNotFound, may_read
from services.messaging.ports import MessagingUnitOfWork
from shared.platform.http.auth import Caller, sees_only_own_work


async def readable_thread(
    uow: MessagingUnitOfWork, caller: Caller, thread_id: str
) -> tuple[ThreadInfo, Participant | None]:
    """The thread and the caller's place on it, if the caller may read it; else as if it did
    not exist (``ThreadNotFound``)."""
    thread = await uow.repos.threads.get(thread_id)
    participant = await uow.repos.threads.participant(thread_id, caller.user_id) if thread else None
    if thread is None or not may_read(
        office=not sees_only_own_work(caller), participant=participant
    ):
        raise ThreadNotFound(f"no message thread {thread_id}")
    return thread, participant


async def alert(
    uow: MessagingUnitOfWork, user_ids: Iterable[str], message: Alert, now: datetime
) -> None:
    """Queue the alert by email to each of them who takes email (after their quiet hours)."""
    users = sorted(set(user_ids))
    if not users:
        return
    for person in await uow.repos.directory.some(users):
        email = email_to(person, message, uow.tenant_id)
        if email is not None:
            await uow.repos.notices.queue(email, send_at=send_after(person, now), now=now)
