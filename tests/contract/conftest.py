"""One suite per port, run against every adapter of it: the fakes the handler unit tests use
(tests/unit/jobs/fakes.py) and the SQL repositories (services/jobs/tables.py) on the real
PostgreSQL.

A test gets an ``adapter`` (parametrised "fake" and "sql") and asks it for stores by tenant:
``adapter.jobs("acme")``, ``adapter.crews("acme")``. The stores of one test share one
transaction (the SQL ones one connection, rolled back when the test ends; the fake ones one
in-memory store), as the repositories of a unit of work do. The stores are exercised directly,
never through a unit of work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.platform.settings import Settings
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.contract.adapters import Adapter, FakeAdapter, SqlAdapter, in_transaction
from tests.support.harness import settings_for


@pytest.fixture(scope="module")
def contract_settings(namespace: str, database_url: str) -> Settings:
    # No broker is started: the stores never reach one, the settings only name one.
    return settings_for("jobs", namespace, database_url, "127.0.0.1:9")


@pytest.fixture(scope="module")
async def contract_engine(contract_settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A jobs schema of this module's own, migrated to head."""
    await asyncio.to_thread(migrate, contract_settings, "services.jobs")
    engine = create_engine(contract_settings)
    try:
        yield engine
    finally:
        await drop_schema(engine, contract_settings.schema_name)
        await engine.dispose()


@pytest.fixture(params=["fake", "sql"])
def adapter_engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    """None for the fake; the database is started only when an "sql" test runs."""
    return request.getfixturevalue("contract_engine") if request.param == "sql" else None


@pytest.fixture
async def adapter(adapter_engine: AsyncEngine | None) -> AsyncIterator[Adapter]:
    if adapter_engine is None:
        yield FakeAdapter()
        return
    async with in_transaction(adapter_engine) as sql:
        yield sql


@pytest.fixture
async def sql_adapter(contract_engine: AsyncEngine) -> AsyncIterator[SqlAdapter]:
    """For what only a database shows (row locks): the SQL adapter alone."""
    async with in_transaction(contract_engine) as sql:
        yield sql
