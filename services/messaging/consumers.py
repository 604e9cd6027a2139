"""Messaging subscribers (thin: envelope -> handler, in the consumer's unit of work): what
messaging keeps of jobs and tickets, surveys after completed work, and the policy layer's
outcomes from whichever service decided."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.messaging.handlers import financing, notifications, surveys, work
from services.messaging.ports import MessagingDeps, MessagingRepositories, MessagingUnitOfWork
from shared.contracts import jobs, tickets
from shared.contracts.billing import FinancingApplicationSent
from shared.contracts.policy import PolicyDeadlinePassed, PolicyDecisionMade
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory

# Jobs' events that only change what the field sees of a job.
JOB_FACTS = (
    jobs.JobSold,
    jobs.HandedOffToProduction,
    jobs.ProductionStatusChanged,
    jobs.JobScheduled,
    jobs.MaterialsRecorded,
    jobs.ChangeOrderAdded,
)


def register(
    platform: ServicePlatform,
    uows: TenantUnitOfWorkFactory[MessagingRepositories],
    deps: MessagingDeps,
) -> None:
    consumer = platform.consumer

    def given_deps(
        handle: Callable[[MessagingDeps, MessagingUnitOfWork, Envelope, Any], Awaitable[None]],
    ) -> Callable[[MessagingUnitOfWork, Envelope, Any], Awaitable[None]]:
        async def with_deps(uow: MessagingUnitOfWork, envelope: Envelope, event: Any) -> None:
            await handle(deps, uow, envelope, event)

        with_deps.__name__ = handle.__name__
        return with_deps

    consumer.on(jobs.LeadCreated)(uows.handler(work.on_lead))
    consumer.on(jobs.TeamAssigned)(uows.handler(work.on_team))
    consumer.on(jobs.CrewAssigned)(uows.handler(work.on_crew))
    for event in JOB_FACTS:
        consumer.on(event)(uows.handler(work.on_job_event))
    consumer.on(jobs.MilestoneChanged)(uows.handler(given_deps(surveys.on_milestone)))
    consumer.on(tickets.TicketOpened)(uows.handler(work.on_ticket_opened))
    consumer.on(tickets.TicketAssigned)(uows.handler(work.on_ticket_assigned))
    consumer.on(tickets.TicketStatusChanged)(uows.handler(given_deps(surveys.on_ticket_status)))
    consumer.on(PolicyDecisionMade)(uows.handler(given_deps(notifications.deliver_decision)))
    consumer.on(PolicyDeadlinePassed)(uows.handler(given_deps(notifications.deliver_deadline)))
    consumer.on(FinancingApplicationSent)(uows.handler(financing.send_application_link))
    topics = [platform.settings.topic(s) for s in ("jobs", "tickets", "billing", "commissions")]
    consumer.subscribe(platform.broker, *topics)
