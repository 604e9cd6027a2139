"""Commissions subscribers (thin: envelope -> handler, in the consumer's unit of work): the
salesman of each lead, and what commissions keeps of jobs and of billing's money."""

from __future__ import annotations

from typing import Any

from services.commissions.handlers import activity, salesmen
from services.commissions.ports import (
    CommissionsDeps,
    CommissionsRepositories,
    CommissionsUnitOfWork,
)
from shared.contracts.billing import (
    ExpenseRecorded,
    FinalPaymentReceived,
    FinalPaymentReversed,
    JobCostsSettled,
)
from shared.contracts.jobs import ChangeOrderAdded, ContractSigned, JobSold, LeadCreated
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory

FOLDED = (
    JobSold,
    ContractSigned,
    ChangeOrderAdded,
    ExpenseRecorded,
    JobCostsSettled,
    FinalPaymentReceived,
    FinalPaymentReversed,
)


def register(
    platform: ServicePlatform,
    uows: TenantUnitOfWorkFactory[CommissionsRepositories],
    deps: CommissionsDeps,
) -> None:
    consumer = platform.consumer

    async def lead(uow: CommissionsUnitOfWork, envelope: Envelope, event: LeadCreated) -> None:
        await salesmen.record_salesman(uow, envelope, event)
        await activity.on_event(deps, uow, envelope, event)

    async def folded(uow: CommissionsUnitOfWork, envelope: Envelope, event: Any) -> None:
        await activity.on_event(deps, uow, envelope, event)

    consumer.on(LeadCreated)(uows.handler(lead))
    for event in FOLDED:
        consumer.on(event)(uows.handler(folded))
    consumer.subscribe(platform.broker, *(platform.settings.topic(s) for s in ("jobs", "billing")))
