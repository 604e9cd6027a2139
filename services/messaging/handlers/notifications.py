"""What reaches people: the policy layer's ``notify`` and ``escalate`` outcomes (in
``policy.decision_made.v1``) and deadlines passed with an ``escalate_to`` (in
``policy.deadline_passed.v1``), delivered to everyone holding the named role in the tenant as an
inbox item and, for those who take email, an email queued in the same transaction; and the
per-tenant directory of who holds which role."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailStatus
from services.messaging.domain.notifications import (
    Notice,
    deliveries,
    notices_of_deadline,
    notices_of_decision,
)
from services.messaging.ports import MessagingDeps, MessagingUnitOfWork
from shared.contracts.policy import PolicyDeadlinePassed, PolicyDecisionMade
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope


async def deliver_decision(
    deps: MessagingDeps,
    uow: MessagingUnitOfWork,
    envelope: Envelope,
    decision: PolicyDecisionMade,
) -> None:
    await _deliver(deps, uow, notices_of_decision(decision), envelope)


async def deliver_deadline(
    deps: MessagingDeps,
    uow: MessagingUnitOfWork,
    envelope: Envelope,
    passed: PolicyDeadlinePassed,
) -> None:
    await _deliver(deps, uow, notices_of_deadline(passed), envelope)


async def _deliver(
    deps: MessagingDeps, uow: MessagingUnitOfWork, notices: list[Notice], envelope: Envelope
) -> None:
    now = envelope.time
    for notice in notices:
        holders = await uow.repos.directory.with_role(notice.role)
        for delivery in deliveries(notice, uow.tenant_id, holders, now):
            if await uow.repos.notices.deliver(delivery, now):
                deps.metrics.notifications.labels(notice.rule).inc()


async def put_person(deps: MessagingDeps, tenant_id: str, person: Person) -> Person:
    async with deps.unit_of_work(tenant_id) as uow:
        await uow.repos.directory.put(person)
        await uow.commit()
    return person


async def directory(deps: MessagingDeps, tenant_id: str) -> list[Person]:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.directory.all()


async def inbox(
    deps: MessagingDeps, tenant_id: str, user_id: str, *, unread_only: bool
) -> list[dict[str, Any]]:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.notices.inbox_of(user_id, unread_only=unread_only)


async def email_log(
    deps: MessagingDeps, tenant_id: str, email_id: str
) -> list[tuple[EmailStatus, datetime, str | None]]:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.notices.email_log(email_id)


async def read_inbox_item(deps: MessagingDeps, caller: Caller, item_id: str) -> bool:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        found = await uow.repos.notices.read_item(caller.user_id, item_id, deps.clock())
        await uow.commit()
    return found


async def requeue_email(deps: MessagingDeps, caller: Caller, email_id: str) -> EmailStatus | None:
    """An operator sends again an email held in doubt (it may have gone: their call) or failed."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        status = await uow.repos.notices.requeue(email_id, deps.clock(), caller.user_id)
        await uow.commit()
    return status
