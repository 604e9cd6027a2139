"""The installer portal's threads and messages, with read tracking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, status

from services.messaging.api.common import AnyCaller, Id
from services.messaging.api.deps import Deps
from services.messaging.domain.threads import (
    MarkRead,
    Message,
    NewMessage,
    SeenBy,
    ThreadInfo,
    ThreadSummary,
)
from services.messaging.handlers import messages
from services.messaging.handlers.messages import DirectThread, ReadResult, ThreadView
from shared.contracts.roles import OFFICE_ROLES, ROLES
from shared.platform.http.access import GuardedRouter

# Everyone on a thread: the office reads every thread of the tenant, a field worker those of
# their assignments (checked per thread: otherwise it is not found).
ACCESS = {
    "my_threads": ROLES,
    "unread_counts": ROLES,
    "open_direct_thread": OFFICE_ROLES,
    "job_thread": ROLES,
    "ticket_thread": ROLES,
    "read_thread": ROLES,
    "list_messages": ROLES,
    "post_message": ROLES,
    "mark_read": ROLES,
    "seen_by": ROLES,
}

router = GuardedRouter(ACCESS, tags=["threads"])


@router.get("/threads", response_model=list[ThreadSummary])
async def my_threads(deps: Deps, caller: AnyCaller) -> list[ThreadSummary]:
    """The threads you are on, latest activity first, each with your unread count."""
    return await messages.my_threads(deps, caller)


@router.get("/unread")
async def unread_counts(deps: Deps, caller: AnyCaller) -> dict[str, object]:
    """Your unread messages: in all and per thread (threads with none left out)."""
    return await messages.unread(deps, caller)


@router.post("/threads", status_code=status.HTTP_201_CREATED, response_model=ThreadInfo)
async def open_direct_thread(body: DirectThread, deps: Deps, caller: AnyCaller) -> ThreadInfo:
    """A thread between you (office) and one installer or technician."""
    return await messages.open_direct(deps, caller, body)


@router.get("/jobs/{job_id}/thread", response_model=ThreadView)
async def job_thread(job_id: Id, deps: Deps, caller: AnyCaller) -> ThreadView:
    return await messages.thread_of(deps, caller, "job", job_id)


@router.get("/tickets/{ticket_id}/thread", response_model=ThreadView)
async def ticket_thread(ticket_id: Id, deps: Deps, caller: AnyCaller) -> ThreadView:
    return await messages.thread_of(deps, caller, "ticket", ticket_id)


@router.get("/threads/{thread_id}", response_model=ThreadView)
async def read_thread(thread_id: Id, deps: Deps, caller: AnyCaller) -> ThreadView:
    return await messages.thread(deps, caller, thread_id)


@router.get("/threads/{thread_id}/messages", response_model=list[Message])
async def list_messages(
    thread_id: Id,
    deps: Deps,
    caller: AnyCaller,
    before: Annotated[int | None, Query(ge=1, description="Messages before this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = messages.PAGE_LIMIT,
) -> list[Message]:
    """The latest page (or the page before ``before``), oldest first."""
    return await messages.page(deps, caller, thread_id, before=before, limit=limit)


@router.post("/threads/{thread_id}/messages", response_model=Message, status_code=201)
async def post_message(
    thread_id: Id, body: NewMessage, deps: Deps, caller: AnyCaller, response: Response
) -> Message:
    """Post a message (attachments are references to stored files). A retry with the same
    ``client_key`` answers 200 with the message as first kept."""
    posted = await messages.post_message(deps, caller, thread_id, body)
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return posted.message


@router.post("/threads/{thread_id}/read", response_model=ReadResult)
async def mark_read(thread_id: Id, body: MarkRead, deps: Deps, caller: AnyCaller) -> ReadResult:
    """Mark read up to a message: each message by others up to it gets your read, with the
    server's time and your app's (``client_read_at``: not in the future, not before the
    message)."""
    return await messages.mark_read(deps, caller, thread_id, body)


@router.get("/threads/{thread_id}/messages/{seq}/seen-by", response_model=list[SeenBy])
async def seen_by(
    thread_id: Id, seq: Annotated[int, Path(ge=1)], deps: Deps, caller: AnyCaller
) -> list[SeenBy]:
    """Who has read the message, when the server recorded it and when their app showed it."""
    return await messages.seen_by(deps, caller, thread_id, seq)
