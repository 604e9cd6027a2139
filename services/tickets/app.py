"""The tickets service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from functools import partial

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets import api, consumers
from services.tickets.api.deps import tickets_deps
from services.tickets.api.errors import ERRORS
from services.tickets.domain.end_of_day import EndOfDay
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
    are the tenant's local ones where its end of day is configured, else UTC. Each step of each
    tenant runs on its own: one that fails is logged and tried again next round, and holds back
    no other tenant or step."""
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
        except Exception:  # a database outage: the next round tries again
            log.exception("tickets clock: reading the round failed; retrying next round")
            await asyncio.sleep(platform.settings.deadline_sweep_interval_s)
            continue
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            *(
                (f"end of day for {t}", partial(end_of_day.when_due, deps, {t: c}))
                for t, c in configs.items()
            ),
            *(
                (f"plans of {t}", partial(plans.fill_plans, deps, t, tenant_today(configs, t, now)))
                for t in planned
            ),
            *(
                (
                    f"follow-ups of {t}",
                    partial(follow_ups.sweep_follow_ups, deps, t, tenant_today(configs, t, now)),
                )
                for t in tenants
            ),
        ]
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("tickets clock: %s failed; retrying next round", what)
        await asyncio.sleep(platform.settings.deadline_sweep_interval_s)


def tenant_today(configs: dict[str, EndOfDay], tenant: str, now: datetime) -> date:
    """The tenant's date now: in its time zone where its end of day is configured, else UTC."""
    config = configs.get(tenant)
    return config.local_now(now).date() if config else now.date()


async def refresh_gauges(connection: AsyncConnection, metrics: TicketsMetrics, today: date) -> None:
    metrics.open_tickets.clear()
    for queue, type_, status, count in await open_ticket_counts(connection):
        metrics.open_tickets.labels(queue or "none", type_, status).set(count)
    metrics.follow_ups_overdue.set(await overdue_follow_ups(connection, today))


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
