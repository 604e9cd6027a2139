"""How a command handler asks the policy layer: decide, and on a refusal keep the logged decision
and raise ``PolicyRefused`` (answered 409 ``policy-denied`` by every service)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.platform.context import request_source
from shared.platform.storage.uow import ServiceUnitOfWork
from shared.policy.decider import Decider
from shared.policy.decision import Decision
from shared.policy.service import PolicyRefused

# The source a decision is logged with when no HTTP request asked for it (a consumer, a sweeper,
# a handler called directly as the unit tests do); in a request it is the route, e.g.
# "POST /jobs/{job_id}/start".
SOURCE_OUTSIDE_HTTP = "direct"


async def decide_or_refuse(
    policy: Decider,
    uow: ServiceUnitOfWork[Any],
    point: str,
    facts: BaseModel,
    *,
    subject: str,
    source: str | None = None,
) -> Decision:
    """Ask the policy layer at ``point``; on a refusal, commit the logged decision and raise.

    The decision's source is the HTTP route being served (``request_source``) unless given, so
    no handler threads it through. The refusal commits ``uow`` as it stands, so call this before
    the command writes anything (decide first, then change): only decisions may be pending."""
    decision = await policy.decide(
        uow.transaction,
        point,
        facts,
        tenant=uow.tenant_id,
        subject=subject,
        source=source or request_source() or SOURCE_OUTSIDE_HTTP,
    )
    if not decision.allowed:
        await uow.commit()
        raise PolicyRefused(decision)
    return decision
