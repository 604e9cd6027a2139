"""The messaging service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.messaging import api, consumers
from services.messaging.api.deps import messaging_deps
from services.messaging.api.errors import ERRORS
from services.messaging.ports import MessagingDeps
from services.messaging.tables import metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "messaging"


def build(settings: Settings | None = None) -> Service[MessagingDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    consumers.register(platform, uows)
    deps = MessagingDeps(unit_of_work=uows)
    return Service(platform, deps, routers=api.ROUTERS, provides=messaging_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
