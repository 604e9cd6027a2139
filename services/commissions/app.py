"""The commissions service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.commissions import api, consumers
from services.commissions.api.deps import commissions_deps
from services.commissions.api.errors import ERRORS
from services.commissions.plan_files import FilePlans
from services.commissions.plans import load_plans
from services.commissions.ports import CommissionsDeps
from services.commissions.tables import metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "commissions"


def build(settings: Settings | None = None) -> Service[CommissionsDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    # The plan files are read once, whole: a refused file stops the start, naming file and line
    # (a plan quietly missing would pay with the version before it).
    plans = FilePlans(load_plans(platform.settings.commission_plans_dir))
    deps = CommissionsDeps(unit_of_work=uows, plans=plans)
    consumers.register(platform, uows, deps)
    return Service(platform, deps, routers=api.ROUTERS, provides=commissions_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
