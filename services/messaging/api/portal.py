"""The installer portal: the work assigned to you, and your live stream (Server-Sent Events) of
new messages, read receipts and assignments, so a page updates without polling. Each event's
``id:`` is its place in your feed; reconnecting with ``Last-Event-ID`` (the header a browser's
EventSource sends, or ``?last_event_id=``) replays everything after it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import StreamingResponse

from services.messaging.api.common import AnyCaller, Id
from services.messaging.api.deps import Deps
from services.messaging.domain.portal import WorkFacts
from services.messaging.handlers import portal
from services.messaging.ports import MessagingDeps
from shared.contracts.roles import ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller

ACCESS = {"my_work": ROLES, "job_work": ROLES, "ticket_work": ROLES, "stream": ROLES}

router = GuardedRouter(ACCESS, tags=["portal"])


@router.get("/portal/work", response_model=list[WorkFacts])
async def my_work(deps: Deps, caller: AnyCaller) -> list[WorkFacts]:
    """The jobs and tickets you are assigned: address, dates, trades, materials, notes."""
    return await portal.my_work(deps, caller)


@router.get("/portal/jobs/{job_id}", response_model=WorkFacts)
async def job_work(job_id: Id, deps: Deps, caller: AnyCaller) -> WorkFacts:
    return await portal.work(deps, caller, "job", job_id)


@router.get("/portal/tickets/{ticket_id}", response_model=WorkFacts)
async def ticket_work(ticket_id: Id, deps: Deps, caller: AnyCaller) -> WorkFacts:
    return await portal.work(deps, caller, "ticket", ticket_id)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream."}},
)
async def stream(
    request: Request,
    deps: Deps,
    caller: AnyCaller,
    last_event_id_header: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    return StreamingResponse(
        events(deps, caller, after or 0, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def events(
    deps: MessagingDeps, caller: Caller, after: int, request: Request
) -> AsyncIterator[str]:
    settings = deps.settings
    # Tells the browser how long to wait before reconnecting (with Last-Event-ID).
    yield f"retry: {int(settings.sse_poll_interval_s * 1000) + 1000}\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        batch = await portal.feed_after(deps, caller, after)
        for event in batch:
            after = event.seq
            payload = json.dumps({**event.data, "at": event.at.isoformat()})
            yield f"id: {event.seq}\nevent: {event.kind}\ndata: {payload}\n\n"
        if batch:
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since >= settings.sse_heartbeat_s:
            yield ": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream
            quiet_since = time.monotonic()
        await asyncio.sleep(settings.sse_poll_interval_s)
