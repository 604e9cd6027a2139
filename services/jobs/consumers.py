"""Jobs subscribers (thin: envelope -> handler, in the consumer's unit of work): the other
services' answers to a new lead, and billing's facts on the job: the invoice sent (the job is
Invoiced), the final payment (Released) and its reversal, the costs settled (with the final
payment, an Invoiced job is Closed)."""

from __future__ import annotations

from services.jobs.domain import ACKNOWLEDGING_SERVICES
from services.jobs.handlers import billing, events
from services.jobs.ports import JobsDeps, JobsRepositories, JobsUnitOfWork
from shared.contracts.billing import (
    FinalPaymentReceived,
    FinalPaymentReversed,
    FinanceFolderOpened,
    InvoiceSent,
    JobCostsSettled,
)
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
        await billing.receive_final_payment(deps, uow, event)

    async def final_payment_reversed(
        uow: JobsUnitOfWork, envelope: Envelope, event: FinalPaymentReversed
    ) -> None:
        await billing.receive_final_payment_reversed(deps, uow, event)

    async def costs_settled(
        uow: JobsUnitOfWork, envelope: Envelope, event: JobCostsSettled
    ) -> None:
        await billing.receive_costs_settled(deps, uow, event)

    async def invoice_sent(uow: JobsUnitOfWork, envelope: Envelope, event: InvoiceSent) -> None:
        await billing.receive_invoice_sent(deps, uow, event)

    for event in (FinanceFolderOpened, ThreadOpened, SalesmanRecorded, CustomerRecorded):
        platform.consumer.on(event)(uows.handler(acknowledged))
    platform.consumer.on(FinalPaymentReceived)(uows.handler(final_payment))
    platform.consumer.on(FinalPaymentReversed)(uows.handler(final_payment_reversed))
    platform.consumer.on(JobCostsSettled)(uows.handler(costs_settled))
    platform.consumer.on(InvoiceSent)(uows.handler(invoice_sent))
    settings = platform.settings
    platform.consumer.subscribe(
        platform.broker, *(settings.topic(s) for s in ACKNOWLEDGING_SERVICES)
    )
