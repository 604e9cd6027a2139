"""The commissions service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.commissions import api, consumers
from services.commissions.api.deps import commissions_deps
from services.commissions.api.errors import ERRORS
from services.commissions.ports import CommissionsDeps
from services.commissions.tables import metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "commissions"


def build(settings: Settings | None = None) -> Service[CommissionsDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    consumers.register(platform, uows)
    deps = CommissionsDeps(unit_of_work=uows)
    return Service(platform, deps, routers=api.ROUTERS, provides=commissions_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
