"""The billing service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.billing import api, consumers
from services.billing.adapters.lender import HttpLender
from services.billing.adapters.quickbooks import QuickBooksOnline
from services.billing.api.deps import billing_deps
from services.billing.api.errors import ERRORS
from services.billing.handlers.export_worker import run_exports
from services.billing.handlers.gauges import refresh_gauges
from services.billing.handlers.insurance import watch_deadlines
from services.billing.metrics import BillingMetrics, ExportMetrics
from services.billing.ports import BillingDeps, BillingFigures, ExportQueue, ExportWorkerDeps
from services.billing.stats import BillingStats
from services.billing.tables import claims_to_watch, export_queue, metadata, repositories
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

    settings = platform.settings
    # The accounting system (QuickBooks Online); unset URL: export off, documents wait.
    accounting = QuickBooksOnline(settings) if settings.quickbooks_url else None
    deps = BillingDeps(
        unit_of_work=uows,
        policy=platform.policy,
        claims_to_watch=watched,
        figures=figures,
        metrics=BillingMetrics(platform.metrics.registry),
        lender=HttpLender(settings) if settings.lender_url else None,
        accounting=accounting,
    )
    interval = settings.depreciation_watch_interval_s
    platform.background.append(
        lambda: every(interval, "depreciation deadline watch", lambda: watch_deadlines(deps))
    )
    platform.background.append(
        lambda: every(GAUGES_INTERVAL_S, "gauges refresh", lambda: refresh_gauges(deps))
    )

    @contextlib.asynccontextmanager
    async def queue() -> AsyncIterator[ExportQueue]:
        async with platform.uow_factory() as transaction:
            yield export_queue(transaction.connection)
            await transaction.commit()

    exporting = ExportWorkerDeps(
        queue=queue,
        accounting=accounting,
        settings=settings,
        metrics=ExportMetrics(platform.metrics.registry),
    )
    platform.background.append(lambda: run_exports(exporting))
    return Service(platform, deps, routers=api.ROUTERS, provides=billing_deps, errors=ERRORS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
