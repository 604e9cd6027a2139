"""The installer portal's threads: posting, reading pages, marking read (the read receipts),
the caller's threads with unread counts, and direct threads the office opens with one
installer. Every change and its events (feed, email alerts, the catalog event) commit together.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from services.messaging.domain.notifications import Alert
from services.messaging.domain.threads import (
    MarkRead,
    Message,
    MessageNotFound,
    NewMessage,
    Participant,
    SeenBy,
    ThreadInfo,
    ThreadNotFound,
    ThreadSummary,
    check_client_read_at,
)
from services.messaging.handlers.common import alert, readable_thread
from services.messaging.ports import MessagingDeps, MessagingUnitOfWork
from shared.contracts.messaging import MessagePosted, MessagesRead
from shared.platform.http.auth import Caller, sees_only_own_work

PAGE_LIMIT = 50


class Posted(BaseModel):
    message: Message
    created: bool  # False: a retried post of the same client_key, answered as it was kept


class ReadResult(BaseModel):
    thread_id: str
    up_to_seq: int
    marked: int


class ThreadView(BaseModel):
    thread: ThreadInfo
    participants: list[Participant]


class DirectThread(BaseModel):
    model_config = ConfigDict(extra="forbid")

    installer_id: str = Field(min_length=1, max_length=100, description="The installer's user id.")
    title: str = Field(min_length=1, max_length=200)


async def post_message(
    deps: MessagingDeps, caller: Caller, thread_id: str, new: NewMessage
) -> Posted:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        thread, _ = await readable_thread(uow, caller, thread_id)
        threads = uow.repos.threads
        # Taken first: a retry racing its original finds it kept, never a duplicate key.
        await threads.lock(thread_id)
        if new.client_key is not None:
            kept = await threads.by_client_key(thread_id, caller.user_id, new.client_key)
            if kept is not None:
                return Posted(message=kept, created=False)
        now = deps.clock()
        await _follow_if_office(uow, caller, thread_id, now)
        message = await threads.post(thread_id, caller.user_id, new, str(uuid.uuid4()), now)
        others = [
            p.user_id
            for p in await threads.participants_of(thread_id)
            if p.active and p.user_id != caller.user_id
        ]
        data = {
            "thread_id": thread_id,
            "title": thread.title,
            **message.model_dump(mode="json", exclude={"thread_id"}),
        }
        await uow.repos.feed.push([*others, caller.user_id], "message", data, now)
        files = "".join(f"\n  attached: {a.name} ({a.content_type})" for a in message.attachments)
        await alert(
            uow,
            others,
            Alert(
                key=f"message:{message.message_id}",
                subject=f"New message: {thread.title}",
                body=f"{caller.user_id} wrote:\n\n{message.body}{files}",
                kind="message",
            ),
            now,
        )
        uow.record(
            MessagePosted(
                thread_id=thread_id,
                kind=thread.kind,
                subject_id=thread.subject_id,
                message_id=message.message_id,
                seq=message.seq,
                author_id=caller.user_id,
                attachments=len(message.attachments),
                posted_at=now,
            ),
            subject=thread_id,
        )
        await uow.commit()
    deps.metrics.messages_posted.labels(thread.kind).inc()
    return Posted(message=message, created=True)


async def mark_read(
    deps: MessagingDeps, caller: Caller, thread_id: str, mark: MarkRead
) -> ReadResult:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await readable_thread(uow, caller, thread_id)
        threads = uow.repos.threads
        message = await threads.message(thread_id, mark.up_to_seq)
        if message is None:
            raise MessageNotFound(f"no message {mark.up_to_seq} in thread {thread_id}")
        now = deps.clock()
        check_client_read_at(
            mark.client_read_at,
            posted_at=message.posted_at,
            now=now,
            skew=timedelta(seconds=deps.settings.client_clock_skew_s),
        )
        await _follow_if_office(uow, caller, thread_id, now)
        newly = await threads.mark_read(
            thread_id, caller.user_id, mark.up_to_seq, now, mark.client_read_at
        )
        if newly:
            receipt = {
                "thread_id": thread_id,
                "reader_id": caller.user_id,
                "seqs": [r.seq for r in newly],
                "read_at": now.isoformat(),
                "client_read_at": mark.client_read_at.isoformat() if mark.client_read_at else None,
            }
            # The authors still on the thread (one unassigned sees nothing of it any more).
            on_thread = {p.user_id for p in await threads.participants_of(thread_id) if p.active}
            authors = {r.author_id for r in newly} & on_thread
            await uow.repos.feed.push([*authors, caller.user_id], "read", receipt, now)
            uow.record(
                MessagesRead(
                    thread_id=thread_id,
                    reader_id=caller.user_id,
                    up_to_seq=mark.up_to_seq,
                    messages=len(newly),
                    read_at=now,
                    client_read_at=mark.client_read_at,
                ),
                subject=thread_id,
            )
        await uow.commit()
    return ReadResult(thread_id=thread_id, up_to_seq=mark.up_to_seq, marked=len(newly))


async def _follow_if_office(
    uow: MessagingUnitOfWork, caller: Caller, thread_id: str, now: datetime
) -> None:
    """Office staff who write or read on a thread follow it from then on (a field worker is on
    it by assignment only)."""
    if not sees_only_own_work(caller):
        existing = await uow.repos.threads.participant(thread_id, caller.user_id)
        if existing is None or not existing.active:
            await uow.repos.threads.join(thread_id, [caller.user_id], "office", now)


async def open_direct(deps: MessagingDeps, caller: Caller, command: DirectThread) -> ThreadInfo:
    """An office user opens a thread with one installer (or technician)."""
    now = deps.clock()
    thread = ThreadInfo(
        thread_id=str(uuid.uuid4()),
        kind="direct",
        subject_id=None,
        title=command.title,
        opened_at=now,
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await uow.repos.threads.open(thread, opened_by=caller.user_id)
        await uow.repos.threads.join(thread.thread_id, [caller.user_id], "office", now)
        await uow.repos.threads.join(thread.thread_id, [command.installer_id], "field", now)
        what = {"kind": "direct", "subject_id": None, "thread_id": thread.thread_id}
        await uow.repos.feed.push(
            [command.installer_id], "assigned", {**what, "title": thread.title}, now
        )
        await uow.commit()
    return thread


async def thread_of(deps: MessagingDeps, caller: Caller, kind: str, subject_id: str) -> ThreadView:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        found = await uow.repos.threads.of_subject(kind, subject_id)
        if found is None:
            raise ThreadNotFound(f"no message thread for {kind} {subject_id}")
        return await _view(uow, caller, found.thread_id)


async def thread(deps: MessagingDeps, caller: Caller, thread_id: str) -> ThreadView:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await _view(uow, caller, thread_id)


async def _view(uow: MessagingUnitOfWork, caller: Caller, thread_id: str) -> ThreadView:
    found, _ = await readable_thread(uow, caller, thread_id)
    return ThreadView(thread=found, participants=await uow.repos.threads.participants_of(thread_id))


async def page(
    deps: MessagingDeps, caller: Caller, thread_id: str, *, before: int | None, limit: int
) -> list[Message]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await readable_thread(uow, caller, thread_id)
        return await uow.repos.threads.page(thread_id, before=before, limit=limit)


async def seen_by(deps: MessagingDeps, caller: Caller, thread_id: str, seq: int) -> list[SeenBy]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await readable_thread(uow, caller, thread_id)
        if await uow.repos.threads.message(thread_id, seq) is None:
            raise MessageNotFound(f"no message {seq} in thread {thread_id}")
        return await uow.repos.threads.seen_by(thread_id, seq)


async def my_threads(deps: MessagingDeps, caller: Caller) -> list[ThreadSummary]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.threads.threads_of(caller.user_id)


async def unread(deps: MessagingDeps, caller: Caller) -> dict[str, object]:
    """The caller's unread messages: in all, and per thread that has any."""
    per_thread = {t.thread_id: t.unread for t in await my_threads(deps, caller) if t.unread}
    return {"total": sum(per_thread.values()), "threads": per_thread}
