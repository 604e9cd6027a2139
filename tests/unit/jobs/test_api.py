"""The jobs HTTP API over the handlers and their fakes (no servers): what a policy refusal looks
like on the wire, the README tour's included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.jobs.api import ROUTERS
from services.jobs.api.deps import jobs_deps
from services.jobs.api.errors import ERRORS
from shared.platform.http.auth import mint_token
from shared.platform.http.problems import install_problem_handlers, map_errors
from shared.platform.settings import load_settings
from shared.policy.service import POLICY_ERRORS
from tests.unit.jobs.fakes import fake_deps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SETTINGS = load_settings("jobs")


def as_user(user: str, *roles: str) -> dict[str, str]:
    token = mint_token(SETTINGS, user=user, tenant="acme", roles=list(roles))
    return {"Authorization": f"Bearer {token}"}


SAM, ANN = as_user("sam", "sales"), as_user("ann", "csa")
PETE = as_user("pete", "project_manager")


@pytest.fixture
async def jobs() -> AsyncIterator[httpx.AsyncClient]:
    deps, _, _ = fake_deps(NOW)
    app = FastAPI()
    app.state.settings = SETTINGS
    app.state.provided = dict([jobs_deps.given(deps)])
    install_problem_handlers(app)
    map_errors(app, {**POLICY_ERRORS, **ERRORS})
    for router in ROUTERS:
        app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jobs") as client:
        yield client


async def post(
    client: httpx.AsyncClient, path: str, who: dict[str, str], body: dict[str, Any], status: int
) -> Any:
    response = await client.post(path, headers=who, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def new_lead(client: httpx.AsyncClient, who: dict[str, str] = SAM) -> str:
    lead = {"customer": {"name": "Dana Reyes", "phone": "555-0100"}, "address": {"line": "12 Elm"}}
    return (await post(client, "/jobs", who, lead, 201))["job_id"]


async def test_the_tour_a_csa_jumping_a_fresh_lead_to_approved_is_told_what_is_missing(
    jobs: httpx.AsyncClient,
) -> None:
    job_id = await new_lead(jobs)
    refused = await jobs.post(f"/jobs/{job_id}/milestone", headers=ANN, json={"to": "approved"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "urn:roofline:problem:policy-denied" and body["outcome"] == "deny"
    assert [(r["policy"], r["rule"]) for r in body["rules"]] == [
        ("line_items", "at-least-one-line-item")
    ]
    assert body["missing"] == ["line item"]


async def test_an_unassigned_lead_is_sold_by_no_path(jobs: httpx.AsyncClient) -> None:
    job_id = await new_lead(jobs, ANN)  # a CSA's lead names no sales rep: unassigned
    url = f"/jobs/{job_id}"
    await post(jobs, f"{url}/line-items", ANN, {"description": "Roof"}, 201)
    for path, who, body in [
        ("milestone", ANN, {"to": "approved"}),
        ("approval-requests", SAM, {"to": "approved"}),
    ]:
        refused = await post(jobs, f"{url}/{path}", who, body, 409)
        assert refused["rules"][0]["rule"] == "unassigned-lead-stays-out"
        assert refused["missing"] == ["assignment to a user"]
    job = (await jobs.get(url, headers=ANN)).json()
    assert job["milestone"] == "lead" and job["approval_requests"] == []


async def test_an_uploaders_roles_are_recorded_with_the_document(jobs: httpx.AsyncClient) -> None:
    job_id = await new_lead(jobs)
    photo = {"type": "photo", "checklist": "post_roof_inspection", "location": "s3://pri.jpg"}
    job = await post(jobs, f"/jobs/{job_id}/documents", PETE, photo, 201)
    assert job["documents"][0]["uploaded_by"] == "pete"
    assert job["documents"][0]["uploaded_by_roles"] == ["project_manager"]
