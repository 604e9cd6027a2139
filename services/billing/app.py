"""The billing service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.billing import api, consumers
from services.billing.api.deps import billing_deps
from services.billing.api.errors import ERRORS
from services.billing.handlers.gauges import refresh_gauges
from services.billing.handlers.insurance import watch_deadlines
from services.billing.lender import HttpLender
from services.billing.metrics import BillingMetrics
from services.billing.ports import BillingDeps, BillingFigures
from services.billing.stats import BillingStats
from services.billing.tables import claims_to_watch, metadata, repositories
from shared.platform.service import Service, ServicePlatform, every
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "billing"
GAUGES_INTERVAL_S = 15.0
# Where billing asks the policy layer (it is not ready without valid rules for each).
DECISION_POINTS = (
    "billing.collect_payment",
    "billing.grant_concession",
    "accounting.create_record",
    "billing.return_check",
    "billing.release_depreciation",
    "billing.watch_depreciation_deadline",
)


def build(settings: Settings | None = None) -> Service[BillingDeps]:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    assert platform.policy is not None
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    consumers.register(platform, uows, platform.policy)

    async def watched() -> list[tuple[str, str]]:
        async with platform.uow_factory() as transaction:
            return await claims_to_watch(transaction.connection)

    async def figures() -> BillingFigures:
        async with platform.uow_factory() as transaction:
            return await BillingStats(transaction.connection).figures()

    deps = BillingDeps(
        unit_of_work=uows,
        policy=platform.policy,
        claims_to_watch=watched,
        figures=figures,
        metrics=BillingMetrics(platform.metrics.registry),
        lender=HttpLender(platform.settings) if platform.settings.lender_url else None,
    )
    interval = platform.settings.depreciation_watch_interval_s
    platform.background.append(
        lambda: every(interval, "depreciation deadline watch", lambda: watch_deadlines(deps))
    )
    platform.background.append(
        lambda: every(GAUGES_INTERVAL_S, "gauges refresh", lambda: refresh_gauges(deps))
    )
    return Service(platform, deps, routers=api.ROUTERS, provides=billing_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
