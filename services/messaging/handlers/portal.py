"""The field's view of its work (seed 001, "Installers see their assigned jobs"), and each
user's live feed (read by the SSE stream)."""

from __future__ import annotations

from services.messaging.domain.portal import WorkFacts
from services.messaging.domain.threads import ThreadNotFound
from services.messaging.handlers.common import readable_thread
from services.messaging.ports import FeedEvent, MessagingDeps
from shared.contracts.messaging import ThreadKind
from shared.platform.http.auth import Caller

FEED_BATCH = 200


async def my_work(deps: MessagingDeps, caller: Caller) -> list[WorkFacts]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.portal.assigned_to(caller.user_id)


async def work(deps: MessagingDeps, caller: Caller, kind: ThreadKind, subject_id: str) -> WorkFacts:
    """One job or ticket as the field sees it: for whoever may read its thread."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        thread = await uow.repos.threads.of_subject(kind, subject_id)
        facts = await uow.repos.portal.get(kind, subject_id)
        if thread is None or facts is None:
            raise ThreadNotFound(f"no {kind} {subject_id}")
        await readable_thread(uow, caller, thread.thread_id)
        return facts


async def feed_after(deps: MessagingDeps, caller: Caller, seq: int) -> list[FeedEvent]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.feed.after(caller.user_id, seq, FEED_BATCH)
