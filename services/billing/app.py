"""The billing service's composition root (served by uvicorn with --factory)."""

from __future__ import annotations

from fastapi import FastAPI

from services.billing import api, consumers
from services.billing.tables import metadata
from shared.platform import ServicePlatform, serve
from shared.settings import Settings, load_settings

SERVICE = "billing"
# Where this service asks the policy layer (it is not ready without valid rules for each).
DECISION_POINTS = (
    "billing.collect_payment",
    "billing.release_depreciation",
    "accounting.create_record",
)


def build(settings: Settings | None = None) -> ServicePlatform:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    consumers.register(platform)
    return platform


def create_app(settings: Settings | None = None) -> FastAPI:
    return serve(build(settings), api.router)
