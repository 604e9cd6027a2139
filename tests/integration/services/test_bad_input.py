"""Bad input is a 4xx naming the field in every service, never a 500 (issue 10).

The five services in-process over ASGI, with their real migrations, PostgreSQL and broker; every
caller is an admin, so what answers is the edge and the request models, not the role checks.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.platform.http.auth import mint_token
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings
from shared.platform.storage.migrations import migrate
from tests.support.harness import create_topics, settings_for

SERVICES = ("jobs", "billing", "messaging", "commissions", "tickets")
# Each service's read of one job's record: (path template, its parameter).
READS = {
    "jobs": "/jobs/{}",
    "billing": "/finance-folders/{}",
    "messaging": "/jobs/{}/thread",
    "commissions": "/jobs/{}/salesman",
    "tickets": "/customers/{}",
}
LEAD = {"customer": {"name": "Dana Reyes"}, "address": {"line": "12 Elm St"}}


@pytest.fixture(scope="module")
def settings(namespace: str, database_url: str, bootstrap_servers: str) -> dict[str, Settings]:
    return {
        name: settings_for(name, namespace, database_url, bootstrap_servers) for name in SERVICES
    }


@pytest.fixture(scope="module")
async def clients(settings: dict[str, Settings]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    await create_topics(settings["jobs"], *SERVICES)
    platforms: dict[str, ServicePlatform] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        for name in SERVICES:
            await asyncio.to_thread(migrate, settings[name], f"services.{name}")
            app_module = importlib.import_module(f"services.{name}.app")
            service = app_module.build(settings[name])
            platform = platforms[name] = service.platform
            await platform.start(consume=False)  # HTTP only: no consumer group to join
            app = service.http_app()
            clients[name] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=f"http://{name}",
                headers=admin(settings[name]),
            )
        yield clients
    finally:
        for name, platform in platforms.items():
            if name in clients:
                await clients[name].aclose()
            await platform.stop()


def admin(settings: Settings) -> dict[str, str]:
    token = mint_token(settings, user="ada", tenant="acme", roles=["admin"])
    return {"Authorization": f"Bearer {token}"}


def refused(response: httpx.Response, *fields: str) -> dict[str, Any]:
    """The response is the 422 invalid-input problem naming exactly ``fields``."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:roofline:problem:invalid-input"
    assert sorted(error["field"] for error in body["errors"]) == sorted(fields), body
    for field in fields:
        assert field in body["detail"]
    return body


@pytest.fixture(scope="module")
async def job_id(clients: dict[str, httpx.AsyncClient]) -> str:
    created = await clients["jobs"].post("/jobs", json=LEAD)
    assert created.status_code == 201, created.text
    return created.json()["job_id"]


# -- NUL and unpaired surrogates, in every service -------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_nul_in_a_path_parameter_is_422_naming_it(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    response = await clients[service].get(READS[service].format("job%001"))
    body = refused(response, "path.job_id")
    assert "NUL" in body["errors"][0]["message"]


@pytest.mark.parametrize("service", SERVICES)
async def test_nul_in_a_query_parameter_is_422_naming_it(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    # Also a parameter the route does not declare: it never reaches the database, but nothing
    # PostgreSQL cannot store gets past the edge.
    response = await clients[service].get(READS[service].format("j1"), params={"q": "a\x00b"})
    refused(response, "query.q")


async def test_nul_in_the_jobs_search_is_422(clients: dict[str, httpx.AsyncClient]) -> None:
    refused(await clients["jobs"].get("/jobs", params={"q": "\x00"}), "query.q")


async def test_nul_in_a_command_path_is_422(clients: dict[str, httpx.AsyncClient]) -> None:
    response = await clients["jobs"].post("/jobs/%00/cancel", json={"reason": "gone"})
    refused(response, "path.job_id")


@pytest.mark.parametrize(
    ("lead", "field"),
    [
        ({**LEAD, "customer": {"name": "Dana\x00"}}, "body.customer.name"),
        ({**LEAD, "address": {"line": "12 Elm", "city": "\x00"}}, "body.address.city"),
        ({**LEAD, "branch": "North\x00"}, "body.branch"),
        ({**LEAD, "lead_source": "\x00"}, "body.lead_source"),
    ],
)
async def test_nul_in_a_json_field_is_422_naming_it(
    clients: dict[str, httpx.AsyncClient], lead: dict[str, Any], field: str
) -> None:
    refused(await clients["jobs"].post("/jobs", json=lead), field)


async def test_nul_in_a_list_item_and_in_a_key_are_422(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    crew = {
        "name": "Crew A",
        "trades": ["roofing"],
        "home_latitude": 40.0,
        "home_longitude": -75.0,
        "member_ids": ["ok", "in\x00staller"],
    }
    refused(await clients["jobs"].post("/crews", json=crew), "body.member_ids.1")
    lead = {**LEAD, "customer": {"name": "Dana", "no\x00te": "x"}}
    refused(await clients["jobs"].post("/jobs", json=lead), "body.customer.no\\x00te")


@pytest.mark.parametrize(
    "raw",
    [
        # The JSON escape of a lone high surrogate, and of a lone low one...
        b'{"customer": {"name": "Dana \\ud800"}, "address": {"line": "12 Elm St"}}',
        b'{"customer": {"name": "\\udfff"}, "address": {"line": "12 Elm St"}}',
        # ... and a surrogate's (invalid) UTF-8 bytes, which JSON parsing lets through too.
        b'{"customer": {"name": "Dana \xed\xa0\x80"}, "address": {"line": "12 Elm St"}}',
    ],
)
async def test_an_unpaired_surrogate_is_422(
    clients: dict[str, httpx.AsyncClient], raw: bytes
) -> None:
    response = await clients["jobs"].post(
        "/jobs", content=raw, headers={"content-type": "application/json"}
    )
    body = refused(response, "body.customer.name")
    assert "surrogate" in body["errors"][0]["message"]


async def test_a_paired_surrogate_is_a_character_like_any_other(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    raw = b'{"customer": {"name": "Dana \\ud83c\\udfe0"}, "address": {"line": "12 Elm St"}}'
    response = await clients["jobs"].post(
        "/jobs", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer"]["name"] == "Dana \U0001f3e0"


# -- paging ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": 2**63}, "query.offset"),
        ({"offset": 10**30}, "query.offset"),
        ({"offset": -1}, "query.offset"),
        ({"limit": 10**6}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"q": "x" * 201}, "query.q"),
    ],
)
async def test_paging_is_bounded(
    clients: dict[str, httpx.AsyncClient], params: dict[str, Any], field: str
) -> None:
    refused(await clients["jobs"].get("/jobs", params=params), field)


async def test_the_last_page_allowed_answers(clients: dict[str, httpx.AsyncClient]) -> None:
    response = await clients["jobs"].get("/jobs", params={"offset": 100_000, "limit": 200})
    assert response.status_code == 200, response.text
    assert response.json() == []


# -- request models as strict as the domain --------------------------------------------------------


@pytest.mark.parametrize(
    ("lead", "field"),
    [
        ({**LEAD, "trades": ["plumbing"]}, "body.trades.0"),
        ({**LEAD, "trades": ["roofing"] * 50}, "body.trades"),
        ({**LEAD, "branch": "x" * 10_000}, "body.branch"),
        ({**LEAD, "lead_source": "x" * 10_000}, "body.lead_source"),
        ({**LEAD, "sales_rep_id": "x" * 10_000}, "body.sales_rep_id"),
        ({**LEAD, "sales_rep_id": ""}, "body.sales_rep_id"),
    ],
)
async def test_a_lead_the_domain_would_refuse_is_422(
    clients: dict[str, httpx.AsyncClient], lead: dict[str, Any], field: str
) -> None:
    refused(await clients["jobs"].post("/jobs", json=lead), field)


async def test_the_trades_the_domain_knows_are_accepted(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    response = await clients["jobs"].post(
        "/jobs", json={**LEAD, "trades": ["roofing", "gutters"], "branch": "North"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["trades"] == ["roofing", "gutters"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("assign", {"sales_rep_id": "x" * 101}, "body.sales_rep_id"),
        ("crew", {"crew_id": "x" * 101}, "body.crew_id"),
        ("contract", {"signed_on": "9999-12-31", "contract_price": "1.00"}, "body.signed_on"),
        ("contract", {"signed_on": "2026-01-05", "contract_price": "1.001"}, "body.contract_price"),
        ("schedule", {"start_date": "0001-01-01"}, "body.start_date"),
        ("line-items", {"description": "x", "trade": "plumbing"}, "body.trade"),
        ("line-items", {"description": "x", "quantity": "-1"}, "body.quantity"),
        ("permit", {"permit_number": "x" * 61}, "body.permit_number"),
        ("measurements", {"measured_on": "9999-01-01"}, "body.measured_on"),
        (
            "inspections",
            {"kind": "final", "on": "1066-10-14", "result": "passed"},
            "body.on",
        ),
        ("documents", {"type": "photo", "location": "x" * 1001}, "body.location"),
    ],
)
async def test_commands_refuse_what_the_domain_would(
    clients: dict[str, httpx.AsyncClient],
    job_id: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    refused(await clients["jobs"].post(f"/jobs/{job_id}/{path}", json=body), field)


async def test_a_crew_the_domain_would_refuse_is_422(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    crew = {"name": "A", "trades": ["roofing"], "home_latitude": 0, "home_longitude": 0}
    refused(
        await clients["jobs"].post("/crews", json={**crew, "member_ids": ["m"] * 101}),
        "body.member_ids",
    )
    refused(
        await clients["jobs"].post("/crews", json={**crew, "trades": ["chimneys"]}),
        "body.trades.0",
    )


async def test_the_longest_lead_accepted_is_created(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    """Every field at its maximum: the lead, its row and its event all take it (the event's
    one-line address is at most 500 characters, so the address is too)."""
    lead = {
        "customer": {"name": "n" * 200, "phone": "5" * 40, "email": "dana@example.com"},
        "address": {"line": "l" * 300, "city": "c" * 100, "state": "s" * 50, "postal_code": "9"},
        "sales_rep_id": "r" * 100,
        "branch": "b" * 100,
        "lead_source": "s" * 100,
        "trades": ["roofing", "metal", "siding", "gutters", "windows", "solar", "other"],
    }
    response = await clients["jobs"].post("/jobs", json=lead)
    assert response.status_code == 201, response.text


async def test_an_address_too_long_for_one_line_is_422(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    address = {"line": "l" * 500, "city": "c" * 100, "state": "s" * 50, "postal_code": "9" * 20}
    refused(await clients["jobs"].post("/jobs", json={**LEAD, "address": address}), "body.address")


async def test_a_contract_price_past_the_money_range_is_409(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    """Each amount fits; their sum would not fit the stored NUMERIC(12,2)."""
    jobs = clients["jobs"]
    job = (await jobs.post("/jobs", json=LEAD)).json()["job_id"]
    top = "9999999999.99"
    signed = await jobs.post(
        f"/jobs/{job}/contract", json={"signed_on": "2026-01-05", "contract_price": top}
    )
    assert signed.status_code == 200, signed.text
    change = {"signed_on": "2026-01-06", "amount": top, "note": "more"}
    response = await jobs.post(f"/jobs/{job}/change-orders", json=change)
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "urn:roofline:problem:conflict"
    down = await jobs.post(
        f"/jobs/{job}/change-orders", json={**change, "amount": "-9999999999.99"}
    )
    assert down.status_code == 201, down.text
    assert down.json()["current_contract_price"] == "0.00"
    # A signed change order counts when the contract is signed again.
    again = await jobs.post(
        f"/jobs/{job}/contract", json={"signed_on": "2026-01-07", "contract_price": "0.00"}
    )
    assert again.status_code == 200, again.text
    response = await jobs.post(
        f"/jobs/{job}/contract",
        json={"signed_on": "2026-01-07", "contract_price": "1000.00"},
    )
    assert response.status_code == 200, response.text  # 1000.00 - 9999999999.99 fits
    assert response.json()["current_contract_price"] == "-9999998999.99"


async def test_calendar_dates_are_bounded(clients: dict[str, httpx.AsyncClient]) -> None:
    response = await clients["jobs"].get(
        "/schedule", params={"start": "0001-01-01", "end": "9999-12-31"}
    )
    refused(response, "query.start", "query.end")


# -- size ------------------------------------------------------------------------------------------


async def test_a_body_over_the_event_size_limit_is_413(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    huge = b'{"customer": {"name": "' + b"x" * settings["jobs"].max_message_bytes + b'"}}'
    response = await clients["jobs"].post(
        "/jobs", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:roofline:problem:too-large"


async def test_a_long_correlation_id_is_replaced(clients: dict[str, httpx.AsyncClient]) -> None:
    response = await clients["jobs"].post(
        "/jobs", json=LEAD, headers={"X-Correlation-ID": "c" * 10_000}
    )
    assert response.status_code == 201, response.text
    assert len(response.headers["X-Correlation-ID"]) == 36  # a fresh uuid
    kept = await clients["jobs"].post("/jobs", json=LEAD, headers={"X-Correlation-ID": "req-7"})
    assert kept.headers["X-Correlation-ID"] == "req-7"


# -- the caller before the input; encodings and depths the edge must not trip on ------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_a_caller_without_a_token_is_401_whatever_the_input(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    client = clients[service]
    response = await client.get(
        READS[service].format("job%001"), params={"q": "\x00"}, headers={"Authorization": ""}
    )
    assert response.status_code == 401, response.text


async def test_a_caller_without_the_role_is_403_before_the_input_is_looked_at(
    clients: dict[str, httpx.AsyncClient], settings: dict[str, Settings]
) -> None:
    token = mint_token(settings["billing"], user="ivan", tenant="acme", roles=["installer"])
    response = await clients["billing"].get(
        "/finance-folders/a%00b", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-32"])
async def test_json_in_another_encoding_than_utf8_is_422_naming_the_body(
    clients: dict[str, httpx.AsyncClient], encoding: str
) -> None:
    body = '{"reason": "a\\u0000b"}'.encode(encoding)
    response = await clients["jobs"].post(
        "/jobs/j1/cancel", content=body, headers={"Content-Type": "application/json"}
    )
    refused(response, "body")


async def test_json_deeper_than_the_parser_goes_is_never_a_500(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    deep = b'{"a":' * 5000 + b'"\\u0041"' + b"}" * 5000
    for path in ("/jobs/j1/handoff", "/jobs/j1/cancel"):  # without a body model, and with one
        response = await clients["jobs"].post(
            path, content=deep, headers={"Content-Type": "application/json"}
        )
        assert response.status_code < 500, (path, response.status_code, response.text)
