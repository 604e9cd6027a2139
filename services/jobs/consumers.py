"""Jobs subscribers (thin: envelope -> handler, in the consumer's unit of work): the other
services' answers to a new lead, and billing's final payment (the job is Released)."""

from __future__ import annotations

from services.jobs.domain import ACKNOWLEDGING_SERVICES
from services.jobs.handlers import events, production
from services.jobs.ports import JobsDeps
from services.jobs.uow import SqlJobsUnitOfWork
from shared.contracts.billing import FinalPaymentReceived, FinanceFolderOpened
from shared.contracts.commissions import SalesmanRecorded
from shared.contracts.messaging import ThreadOpened
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import UnitOfWork


def register(platform: ServicePlatform, deps: JobsDeps) -> None:
    async def acknowledged(uow: UnitOfWork, envelope: Envelope, _: object) -> None:
        await events.record_acknowledgement(
            SqlJobsUnitOfWork.within(uow, envelope.tenant_id),
            job_id=envelope.subject,
            service=envelope.source,
            event_type=envelope.type,
            event_id=str(envelope.id),
            at=envelope.time,
        )

    async def final_payment(
        uow: UnitOfWork, envelope: Envelope, event: FinalPaymentReceived
    ) -> None:
        await production.receive_final_payment(
            deps, SqlJobsUnitOfWork.within(uow, envelope.tenant_id), event.job_id
        )

    for event in (FinanceFolderOpened, ThreadOpened, SalesmanRecorded, CustomerRecorded):
        platform.consumer.on(event)(acknowledged)
    platform.consumer.on(FinalPaymentReceived)(final_payment)
    settings = platform.settings
    platform.consumer.subscribe(
        platform.broker, *(settings.topic(s) for s in ACKNOWLEDGING_SERVICES)
    )
