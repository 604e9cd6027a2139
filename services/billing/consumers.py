"""Billing subscribers (thin: envelope -> handler, in the consumer's unit of work): what billing
keeps of jobs, of tickets' complaints, repairs and work orders, and of messaging's survey
answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.billing.handlers import collections, exports, folders, insurance
from services.billing.ports import BillingRepositories, BillingUnitOfWork
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    InsuranceRecorded,
    JobSold,
    LeadCreated,
    LineItemsChanged,
    MilestoneChanged,
)
from shared.contracts.messaging import SurveyAnswered
from shared.contracts.tickets import (
    IssueOpened,
    IssueResolved,
    TicketLineItemsChanged,
    TicketOpened,
    TicketStatusChanged,
)
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory
from shared.policy.decider import Decider

Handler = Callable[[BillingUnitOfWork, Envelope, Any], Awaitable[None]]


def register(
    platform: ServicePlatform,
    uows: TenantUnitOfWorkFactory[BillingRepositories],
    policy: Decider,
) -> None:
    consumer = platform.consumer

    def deciding(
        handle: Callable[[Decider, BillingUnitOfWork, Envelope, Any], Awaitable[None]],
    ) -> Handler:
        async def with_policy(uow: BillingUnitOfWork, envelope: Envelope, event: Any) -> None:
            await handle(policy, uow, envelope, event)

        with_policy.__name__ = handle.__name__
        return with_policy

    def deciding_runs(
        handle: Callable[[Decider, BillingUnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]],
    ) -> Callable[[BillingUnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]:
        async def with_policy(uow: BillingUnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
            await handle(policy, uow, events)

        with_policy.__name__ = handle.__name__
        return with_policy

    # Jobs' events a run at a time: a catch-up folds hundreds into a handful of statements.
    consumer.on_batch(
        LeadCreated, JobSold, LineItemsChanged, ContractSigned, ChangeOrderAdded, MilestoneChanged
    )(uows.batch_handler(folders.project_jobs))
    # What billing hears of the customer's satisfaction, a run at a time too.
    consumer.on_batch(IssueOpened, IssueResolved, SurveyAnswered)(
        uows.batch_handler(deciding_runs(collections.project_standing))
    )
    consumer.on(InsuranceRecorded)(uows.handler(deciding(insurance.on_insurance_recorded)))
    # Tickets' work orders, for the accounting export.
    consumer.on(TicketOpened)(uows.handler(exports.on_ticket_opened))
    consumer.on(TicketLineItemsChanged)(uows.handler(deciding(exports.on_ticket_lines)))
    consumer.on(TicketStatusChanged)(uows.handler(deciding(exports.on_ticket_status)))
    topics = [platform.settings.topic(s) for s in ("jobs", "tickets", "messaging")]
    consumer.subscribe(platform.broker, *topics)
