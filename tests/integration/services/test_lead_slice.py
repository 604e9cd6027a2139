"""The lead slice across jobs and billing, in-process, with their real migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.billing import app as billing_app
from services.jobs import app as jobs_app
from shared.platform.http.auth import mint_token
from shared.platform.service import Service
from shared.platform.settings import Settings
from shared.platform.storage.db import create_engine
from shared.platform.storage.migrations import migrate
from tests.support.harness import create_topics, eventually, settings_for


@pytest.fixture(scope="module")
def settings(namespace: str, database_url: str, bootstrap_servers: str) -> dict[str, Settings]:
    return {
        name: settings_for(name, namespace, database_url, bootstrap_servers)
        for name in ("jobs", "billing")
    }


@pytest.fixture(scope="module")
async def clients(settings: dict[str, Settings]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    await create_topics(settings["jobs"], "jobs", "billing", "messaging", "commissions", "tickets")
    for name in ("jobs", "billing"):
        # Twice: a second upgrade finds the schema at head and changes nothing.
        await asyncio.to_thread(migrate, settings[name], f"services.{name}")
        await asyncio.to_thread(migrate, settings[name], f"services.{name}")
    services: dict[str, Service[Any]] = {
        "jobs": jobs_app.build(settings["jobs"]),
        "billing": billing_app.build(settings["billing"]),
    }
    platforms = {name: service.platform for name, service in services.items()}
    clients = {}
    for name, service in services.items():
        await service.platform.start()
        app = service.http_app()
        clients[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"
        )
    try:
        yield clients
    finally:
        for name, platform in platforms.items():
            await clients[name].aclose()
            await platform.stop()


def auth(settings: Settings, tenant: str = "acme", role: str = "sales") -> dict[str, str]:
    token = mint_token(settings, user="sam", tenant=tenant, roles=[role])
    return {"Authorization": f"Bearer {token}"}


async def test_a_lead_gets_a_finance_folder_and_the_job_shows_it(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    jobs, billing = clients["jobs"], clients["billing"]
    created = await jobs.post(
        "/jobs",
        json={
            "customer": {"name": "Dana Reyes", "phone": "555-0100", "email": "dana@example.com"},
            "address": {"line": "12 Elm St", "city": "Springfield"},
        },
        headers=auth(settings["jobs"]),
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert (job["milestone"], job["team"]["sales_rep_id"]) == ("lead", "sam")
    assert job["in_pipeline"]  # a Sales user's own lead is assigned to them
    assert job["awaiting"] == ["billing", "messaging", "commissions", "tickets"]

    async def acknowledged() -> dict | None:
        body = (await jobs.get(f"/jobs/{job['job_id']}", headers=auth(settings["jobs"]))).json()
        return body if "billing" in body["acknowledged_by"] else None

    body = await eventually(acknowledged, what="billing to acknowledge the lead")
    assert body["awaiting"] == ["messaging", "commissions", "tickets"]
    folder = await billing.get(
        f"/finance-folders/{job['job_id']}", headers=auth(settings["billing"])
    )
    assert folder.status_code == 200
    assert folder.json()["folder"]["customer_name"] == "Dana Reyes"
    other = await billing.get(
        f"/finance-folders/{job['job_id']}", headers=auth(settings["billing"], tenant="globex")
    )
    assert other.status_code == 404


async def test_a_lead_needs_a_name_and_an_address(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    response = await clients["jobs"].post(
        "/jobs",
        json={"customer": {"name": "", "email": "not-an-email"}},
        headers=auth(settings["jobs"]),
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.customer.name", "body.customer.email", "body.address"}


async def test_an_installer_cannot_create_leads(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    response = await clients["jobs"].post(
        "/jobs",
        json={"customer": {"name": "X"}, "address": {"line": "Y"}},
        headers=auth(settings["jobs"], role="installer"),
    )
    assert response.status_code == 403


async def test_a_decision_names_the_route_that_asked_for_it(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    """No handler is given the route: the platform's middleware keeps the request, and the
    decision is logged with the method and route template the request matched."""
    jobs, headers = clients["jobs"], auth(settings["jobs"], role="csa")
    lead = {"customer": {"name": "Dana Reyes"}, "address": {"line": "12 Elm St"}}
    job_id = (await jobs.post("/jobs", json=lead, headers=headers)).json()["job_id"]
    refused = await jobs.post(f"/jobs/{job_id}/milestone", json={"to": "approved"}, headers=headers)
    assert refused.status_code == 409, refused.text
    engine = create_engine(settings["jobs"])
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text("SELECT source FROM policy_decisions WHERE subject = :job"),
                {"job": job_id},
            )
            sources = set(result.scalars())
    finally:
        await engine.dispose()
    assert sources == {"POST /jobs/{job_id}/milestone"}
