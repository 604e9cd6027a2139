"""The tickets service's composition root (served by uvicorn with --factory)."""

from __future__ import annotations

from fastapi import FastAPI

from services.tickets import api, consumers
from services.tickets.tables import metadata
from shared.platform.service import ServicePlatform, serve
from shared.platform.settings import Settings, load_settings

SERVICE = "tickets"


def build(settings: Settings | None = None) -> ServicePlatform:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    consumers.register(platform)
    return platform


def create_app(settings: Settings | None = None) -> FastAPI:
    return serve(build(settings), api.router)
