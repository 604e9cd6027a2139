"""Composition root of the jobs service (uvicorn services.jobs.app:create_app --factory)."""

from __future__ import annotations

from fastapi import FastAPI

from services.jobs import api, consumers
from services.jobs.tables import metadata
from shared.logging import configure_logging
from shared.platform import ServicePlatform
from shared.settings import Settings, load_settings

SERVICE = "jobs"


def build(settings: Settings | None = None) -> ServicePlatform:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    consumers.register(platform)
    return platform


def create_app(settings: Settings | None = None) -> FastAPI:
    platform = build(settings)
    configure_logging(SERVICE, platform.settings.log_level)
    return platform.http_app(title="Roofline jobs", routers=[api.router(platform)])
