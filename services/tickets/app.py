"""The tickets service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.tickets import api, consumers
from services.tickets.api.deps import tickets_deps
from services.tickets.api.errors import ERRORS
from services.tickets.handlers.follow_ups import sweep_follow_ups
from services.tickets.ports import TicketsDeps
from services.tickets.tables import metadata, repositories, tenants_with_follow_ups_due
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
)

log = logging.getLogger(__name__)


def build(settings: Settings | None = None) -> Service[TicketsDeps]:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    assert platform.policy is not None
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    deps = TicketsDeps(unit_of_work=uows, policy=platform.policy)
    consumers.register(platform, uows)
    platform.background.append(lambda: follow_up_sweeper(platform, deps))
    return Service(platform, deps, routers=api.ROUTERS, provides=tickets_deps, errors=ERRORS)


async def follow_up_sweeper(platform: ServicePlatform, deps: TicketsDeps) -> None:
    """Every sweep interval: each follow-up whose day passed uncalled is counted missed and the
    next one set (``sweep_follow_ups``; replicas skip each other's locked tickets)."""
    while True:
        try:
            async with platform.uow_factory() as transaction:
                tenants = await tenants_with_follow_ups_due(
                    transaction.connection, deps.clock().date()
                )
            for tenant in tenants:
                await sweep_follow_ups(deps, tenant)
        except Exception:  # a database outage: the next round tries again
            log.exception("follow-up sweep failed; retrying next round")
        await asyncio.sleep(platform.settings.deadline_sweep_interval_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
