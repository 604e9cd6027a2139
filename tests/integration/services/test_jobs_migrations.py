"""Upgrading a jobs schema that holds leads from the first slice keeps them, as job documents."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from services.jobs.tables import JobRepository
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.support.harness import settings_for


async def test_first_slice_leads_become_jobs(
    namespace: str, database_url: str, bootstrap_servers: str
) -> None:
    settings = settings_for("jobs", namespace, database_url, bootstrap_servers)
    await asyncio.to_thread(migrate, settings, "services.jobs", "jobs_0002")
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO jobs (tenant_id, job_id, customer_name, phone, email, "
                    "property_address, salesman_id, milestone) VALUES ('acme', 'j1', 'Dana Reyes', "
                    "'555-0100', NULL, '12 Elm St', 'sam', 'lead')"
                )
            )
        await asyncio.to_thread(migrate, settings, "services.jobs")
        async with engine.connect() as connection:
            job = await JobRepository(connection, "acme").get("j1")
        assert job is not None
        assert (job.customer.name, job.customer.phone, job.customer.email) == (
            "Dana Reyes",
            "555-0100",
            None,
        )
        assert (job.address.line, job.team.sales_rep_id, job.milestone.value) == (
            "12 Elm St",
            "sam",
            "lead",
        )
        assert job.assigned
    finally:
        await drop_schema(engine, settings.schema_name)
        await engine.dispose()
