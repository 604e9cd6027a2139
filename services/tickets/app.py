"""The tickets service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets import api, consumers
from services.tickets.api.deps import tickets_deps
from services.tickets.api.errors import ERRORS
from services.tickets.domain.plans import HORIZON_WEEKS
from services.tickets.handlers import end_of_day, follow_ups, plans
from services.tickets.metrics import TicketsMetrics
from services.tickets.ports import TicketsDeps
from services.tickets.tables import (
    end_of_day_configs,
    metadata,
    open_ticket_counts,
    overdue_follow_ups,
    repositories,
    tenants_with_follow_ups_due,
    tenants_with_plans_to_fill,
)
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "tickets"
# Where this service asks the policy layer (it is not ready without valid rules for each).
DECISION_POINTS = (
    "accounting.create_record",
    "tickets.follow_up",
    "tickets.book_visits",
    "tickets.start_work",
    "tickets.end_of_day",
)

log = logging.getLogger(__name__)


def build(settings: Settings | None = None) -> Service[TicketsDeps]:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    assert platform.policy is not None
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    metrics = TicketsMetrics(platform.metrics.registry)
    deps = TicketsDeps(unit_of_work=uows, policy=platform.policy, metrics=metrics)
    consumers.register(platform, uows)
    platform.background.append(lambda: service_clock(platform, deps))
    return Service(platform, deps, routers=api.ROUTERS, provides=tickets_deps, errors=ERRORS)


async def service_clock(platform: ServicePlatform, deps: TicketsDeps) -> None:
    """Every sweep interval: the gauges are recounted; each tenant whose end of day has come gets
    the day's move (once a day); each active plan's visits are generated through its horizon;
    then each follow-up whose day passed uncalled is counted missed and the next one set. Days
    are the tenant's local ones where its end of day is configured, else UTC."""
    while True:
        try:
            async with platform.uow_factory() as transaction:
                configs = await end_of_day_configs(transaction.connection)
                now = deps.clock()
                tenants = await tenants_with_follow_ups_due(
                    transaction.connection, now.date() + timedelta(days=1)
                )
                planned = await tenants_with_plans_to_fill(
                    transaction.connection, now.date() + timedelta(weeks=HORIZON_WEEKS)
                )
                await refresh_gauges(transaction.connection, deps.metrics, now.date())
            await end_of_day.when_due(deps, configs)
            for tenant in planned:
                await plans.fill_plans(deps, tenant, now.date())
            for tenant in tenants:
                config = configs.get(tenant)
                today = config.local_now(now).date() if config else now.date()
                await follow_ups.sweep_follow_ups(deps, tenant, today)
        except Exception:  # a database outage: the next round tries again
            log.exception("tickets clock round failed; retrying next round")
        await asyncio.sleep(platform.settings.deadline_sweep_interval_s)


async def refresh_gauges(connection: AsyncConnection, metrics: TicketsMetrics, today: date) -> None:
    metrics.open_tickets.clear()
    for queue, type_, status, count in await open_ticket_counts(connection):
        metrics.open_tickets.labels(queue or "none", type_, status).set(count)
    metrics.follow_ups_overdue.set(await overdue_follow_ups(connection, today))


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
