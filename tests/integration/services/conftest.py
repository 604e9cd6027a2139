"""Fixtures of the service integration tests that more than one module uses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.billing import app as billing_app
from services.billing.ports import BillingDeps
from shared.platform.service import Service
from tests.support.harness import create_topics, running, settings_for


@pytest.fixture
async def billing_service(
    namespace: str, database_url: str, bootstrap_servers: str
) -> AsyncIterator[Service[BillingDeps]]:
    settings = settings_for(
        "billing", f"{namespace}b{uuid.uuid4().hex[:6]}", database_url, bootstrap_servers
    )
    await create_topics(settings, "billing", "jobs", "tickets", "messaging")
    built = billing_app.build(settings)
    # The tests apply billing's handlers themselves: no consumer group to join.
    async with running(built.platform, consume=False):
        yield built


@pytest.fixture
async def billing_client(billing_service: Service[BillingDeps]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=billing_service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as billing_client:
        yield billing_client
