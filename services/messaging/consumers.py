"""Messaging subscribers (thin: envelope -> handler, in the consumer's unit of work)."""

from __future__ import annotations

from services.messaging.handlers import notifications, threads
from services.messaging.ports import MessagingRepositories
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.contracts.policy import PolicyDeadlinePassed, PolicyDecisionMade
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(
    platform: ServicePlatform, uows: TenantUnitOfWorkFactory[MessagingRepositories]
) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(threads.open_thread))
    platform.consumer.on(CrewAssigned)(uows.handler(threads.record_crew))
    # The policy layer's outcomes, published by whichever service decided.
    platform.consumer.on(PolicyDecisionMade)(uows.handler(notifications.deliver_decision))
    platform.consumer.on(PolicyDeadlinePassed)(uows.handler(notifications.deliver_deadline))
    topics = [platform.settings.topic(s) for s in ("jobs", "tickets", "billing", "commissions")]
    platform.consumer.subscribe(platform.broker, *topics)
