"""Jobs subscribers (thin: envelope -> handler, in the consumer's unit of work): the other
services' answers to a new lead, billing's invoice sent (the job is Invoiced) and final payment
(the job is Released)."""

from __future__ import annotations

from services.jobs.domain import ACKNOWLEDGING_SERVICES
from services.jobs.handlers import events, production
from services.jobs.ports import JobsDeps, JobsRepositories, JobsUnitOfWork
from shared.contracts.billing import FinalPaymentReceived, FinanceFolderOpened, InvoiceSent
from shared.contracts.commissions import SalesmanRecorded
from shared.contracts.messaging import ThreadOpened
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(
    platform: ServicePlatform, uows: TenantUnitOfWorkFactory[JobsRepositories], deps: JobsDeps
) -> None:
    async def acknowledged(uow: JobsUnitOfWork, envelope: Envelope, _: object) -> None:
        await events.record_acknowledgement(
            uow,
            job_id=envelope.subject,
            service=envelope.source,
            event_type=envelope.type,
            event_id=str(envelope.id),
            at=envelope.time,
        )

    async def final_payment(
        uow: JobsUnitOfWork, envelope: Envelope, event: FinalPaymentReceived
    ) -> None:
        await production.receive_final_payment(deps, uow, event.job_id)

    async def invoice_sent(uow: JobsUnitOfWork, envelope: Envelope, event: InvoiceSent) -> None:
        await production.receive_invoice_sent(deps, uow, event.job_id, event.number)

    for event in (FinanceFolderOpened, ThreadOpened, SalesmanRecorded, CustomerRecorded):
        platform.consumer.on(event)(uows.handler(acknowledged))
    platform.consumer.on(FinalPaymentReceived)(uows.handler(final_payment))
    platform.consumer.on(InvoiceSent)(uows.handler(invoice_sent))
    settings = platform.settings
    platform.consumer.subscribe(
        platform.broker, *(settings.topic(s) for s in ACKNOWLEDGING_SERVICES)
    )
