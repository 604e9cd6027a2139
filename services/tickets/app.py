"""The tickets service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.tickets import api, consumers
from services.tickets.api.deps import tickets_deps
from services.tickets.api.errors import ERRORS
from services.tickets.ports import TicketsDeps
from services.tickets.tables import metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "tickets"


def build(settings: Settings | None = None) -> Service[TicketsDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    consumers.register(platform, uows)
    deps = TicketsDeps(unit_of_work=uows)
    return Service(platform, deps, routers=api.ROUTERS, provides=tickets_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
