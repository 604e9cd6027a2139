"""The HTTP side every service shares: auth, problem+json errors, health, metrics, AsyncAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from shared.platform.http.auth import mint_token
from shared.platform.settings import Settings
from tests.support.harness import create_topics, eventually, running, settings_for
from tests.support.tally import tally_platform, tally_router


@pytest.fixture(scope="module")
def settings(namespace: str, database_url: str, bootstrap_servers: str) -> Settings:
    # A small event size limit (the least allowed), so a test can make an event too large.
    return settings_for("tally", namespace, database_url, bootstrap_servers, max_message_bytes=1024)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await create_topics(settings, "tally")
    platform = tally_platform(settings)
    app = platform.http_app(title="tally", routers=[tally_router(platform)])
    async with running(platform):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tally") as http:
            yield http


def bearer(settings: Settings, tenant: str = "acme", **kwargs: object) -> dict[str, str]:
    token = mint_token(settings, user="u1", tenant=tenant, roles=["production"], **kwargs)
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/counters/c1")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:roofline:problem:unauthorized"


async def test_tampered_token_is_401(client: httpx.AsyncClient, settings: Settings) -> None:
    header, payload, signature = bearer(settings)["Authorization"][7:].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = await client.get("/counters/c1", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    other_secret = settings.model_copy(
        update={"jwt_secret": SecretStr("someone-elses-secret-of-32-bytes-or-more")}
    )
    response = await client.get("/counters/c1", headers=bearer(other_secret))
    assert response.status_code == 401


async def test_expired_token_is_401(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/counters/c1", headers=bearer(settings, ttl=timedelta(seconds=-5)))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_another_tenants_record_is_404_like_a_missing_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    created = await client.post(
        "/counters/roof-7/increment", json={"amount": 3}, headers=bearer(settings, "acme")
    )
    assert created.status_code == 202
    own = await client.get("/counters/roof-7", headers=bearer(settings, "acme"))
    assert own.status_code == 200
    assert own.json()["total"] == 3

    theirs = await client.get("/counters/roof-7", headers=bearer(settings, "globex"))
    missing = await client.get("/counters/no-such", headers=bearer(settings, "globex"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["type"] == missing.json()["type"] == "urn:roofline:problem:not-found"


async def test_invalid_input_is_422_naming_the_field(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/counters/c1/increment", json={"amount": "many"}, headers=bearer(settings)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:roofline:problem:invalid-input"
    assert [error["field"] for error in body["errors"]] == ["body.amount"]
    assert "body.amount" in body["detail"]


async def test_an_event_over_the_size_limit_is_413_and_nothing_is_committed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The command records its event before it commits: an event too large for the bus fails
    the command with a problem, not a 500, and leaves no counter behind."""
    counter = "c" * 600  # the id is both the event's subject and in its data
    response = await client.post(
        f"/counters/{counter}/increment", json={"amount": 1}, headers=bearer(settings)
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:roofline:problem:too-large"
    assert "limit 1024" in body["detail"]
    missing = await client.get(f"/counters/{counter}", headers=bearer(settings))
    assert missing.status_code == 404


async def test_nul_anywhere_is_422_naming_the_field(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The platform's edge, for any service it builds (tally declares nothing about it)."""
    response = await client.post(
        "/counters/c%00/increment?note=%00",
        json={"amount": 1, "note": "\x00"},
        headers=bearer(settings),
    )
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["query.note", "path.counter_id", "body.note"]


async def test_error_responses_are_declared_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    responses = spec["paths"]["/counters/{counter_id}/increment"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "413", "422"):
        schema = responses[status]["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ProblemDetails"}
    assert spec["components"]["schemas"]["ProblemDetails"]["required"] == [
        "type",
        "title",
        "status",
    ]


async def test_health_metrics_and_asyncapi(client: httpx.AsyncClient, settings: Settings) -> None:
    assert (await client.get("/health/live")).json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "consumer": "ok"}
    await client.get("/counters/c1")  # one unauthenticated request to count
    await client.post("/counters/c1/increment", json={"amount": 1}, headers=bearer(settings))

    async def relayed() -> str | None:
        text = (await client.get("/metrics")).text
        return text if "roofline_outbox_published_total 1.0" in text else None

    metrics = await eventually(relayed, what="the relay to publish the increment")
    assert (
        'roofline_http_request_duration_seconds_count{method="GET",'
        'route="/counters/{counter_id}",status="401"} 1.0'
    ) in metrics
    assert "roofline_outbox_backlog 0.0" in metrics
    assert "roofline_relay_leader 1.0" in metrics
    # FastStream's own Kafka metrics share the service's registry (they count what FastStream
    # consumes and dead-letters; the relay publishes with its own producer, counted above).
    assert "# TYPE faststream_published_messages_total counter" in metrics
    assert "# TYPE faststream_received_messages_total counter" in metrics
    spec = (await client.get("/asyncapi.json")).json()
    assert spec["info"]["title"] == "tally"
