"""The commissions service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI

from services.commissions import api, consumers
from services.commissions.api.deps import commissions_deps
from services.commissions.api.errors import ERRORS
from services.commissions.handlers.gauges import refresh_gauges
from services.commissions.metrics import CommissionsMetrics
from services.commissions.plan_files import FilePlans
from services.commissions.plans import load_plans
from services.commissions.ports import CommissionsDeps, CommissionsFigures
from services.commissions.stats import figures as read_figures
from services.commissions.tables import metadata, repositories
from shared.platform.service import Service, ServicePlatform, every
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "commissions"
GAUGES_INTERVAL_S = 15.0


def build(settings: Settings | None = None) -> Service[CommissionsDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    # The plan files are read once, whole: a refused file stops the start, naming file and line
    # (a plan quietly missing would pay with the version before it).
    plans = FilePlans(load_plans(platform.settings.commission_plans_dir))

    async def figures() -> CommissionsFigures:
        async with platform.uow_factory() as transaction:
            this_year = date.today().replace(month=1, day=1)
            return await read_figures(
                transaction.connection, this_year.replace(year=this_year.year - 1)
            )

    deps = CommissionsDeps(
        unit_of_work=uows,
        plans=plans,
        figures=figures,
        metrics=CommissionsMetrics(platform.metrics.registry),
    )
    consumers.register(platform, uows, deps)
    platform.background.append(
        lambda: every(GAUGES_INTERVAL_S, "gauges refresh", lambda: refresh_gauges(deps))
    )
    return Service(platform, deps, routers=api.ROUTERS, provides=commissions_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
