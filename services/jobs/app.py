"""The jobs service's composition root (served by uvicorn with --factory): the only place that
wires anything."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from services.jobs import api, consumers
from services.jobs.api.deps import jobs_deps
from services.jobs.api.errors import ERRORS
from services.jobs.metrics import JobsMetrics
from services.jobs.ports import JobsDeps
from services.jobs.tables import count_all_tenants, metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "jobs"
# Where this service asks the policy layer (it is not ready without valid rules for each).
DECISION_POINTS = (
    "jobs.change_job",
    "jobs.submit_to_production",
    "jobs.complete_job",
    "jobs.assign_crew",
    "accounting.create_record",
)
GAUGE_INTERVAL_S = 15.0

log = logging.getLogger(__name__)


def build(settings: Settings | None = None) -> Service[JobsDeps]:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    assert platform.policy is not None
    metrics = JobsMetrics(platform.metrics.registry)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    deps = JobsDeps(unit_of_work=uows, policy=platform.policy, metrics=metrics)
    consumers.register(platform, uows, deps)
    platform.background.append(lambda: refresh_gauges(platform, metrics))
    return Service(platform, deps, routers=api.ROUTERS, provides=jobs_deps, errors=ERRORS)


async def refresh_gauges(platform: ServicePlatform, metrics: JobsMetrics) -> None:
    """Jobs per milestone and per production status, recounted every few seconds."""
    while True:
        with contextlib.suppress(Exception):  # a database outage: the next round recounts
            async with platform.uow_factory() as transaction:
                for column, gauge, label in (
                    ("milestone", metrics.jobs_by_milestone, "milestone"),
                    ("production_status", metrics.jobs_by_production_status, "status"),
                ):
                    gauge.clear()
                    counts = await count_all_tenants(transaction.connection, column)
                    for value, count in counts:
                        if value is not None:
                            gauge.labels(**{label: value}).set(count)
        await asyncio.sleep(GAUGE_INTERVAL_S)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
