"""Post-install financing (seed 002's Hearth) on the real PostgreSQL through the billing
service's HTTP API, against the fake lender on real HTTP (shared/cli/fake_lender.py): an
application for the exact balance with its link published for messaging, the customer qualified
with offers, an offer chosen and passed on, and the lender's funds booked as a payment that
releases the completed job; a customer who does not qualify; a lender that cannot be reached
leaving nothing stored."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.billing import app as billing_app
from services.billing.domain.financing import LenderNotConfigured, NewFinancingApplication
from services.billing.handlers import financing
from services.billing.ports import BillingDeps
from shared.cli.fake_lender import FakeLender
from shared.contracts.jobs import MilestoneChanged
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import Service
from tests.integration.services.test_billing_money import (
    a_signed_job,
    apply,
    as_user,
    jobs_event,
    published,
)
from tests.support.harness import create_topics, running, settings_for

KEY = "test-lender-key"


@pytest.fixture
def lender() -> Iterator[FakeLender]:
    fake = FakeLender(api_key=KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
async def service(
    namespace: str, database_url: str, bootstrap_servers: str, lender: FakeLender
) -> AsyncIterator[Service[BillingDeps]]:
    settings = settings_for(
        "billing",
        f"{namespace}f{uuid.uuid4().hex[:6]}",
        database_url,
        bootstrap_servers,
        lender_url=lender.url,
        lender_api_key=KEY,
    )
    await create_topics(settings, "billing", "jobs", "tickets", "messaging")
    built = billing_app.build(settings)
    async with running(built.platform, consume=False):  # the handlers are applied directly
        yield built


@pytest.fixture
async def client(service: Service[BillingDeps]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        yield client


async def sent_events(service: Service[BillingDeps]) -> list[dict[str, Any]]:
    """The data of each ``billing.financing_application_sent.v1`` in the outbox."""
    outbox = service.platform.tables.outbox
    async with service.platform.uow_factory() as transaction:
        payloads = await transaction.connection.execute(
            sa.select(outbox.c.payload).where(
                outbox.c.event_type == "billing.financing_application_sent.v1"
            )
        )
        return [Envelope.from_bytes(p, 10**6).data for p in payloads.scalars()]


async def test_a_financed_balance_is_applied_for_offered_chosen_and_paid(
    service: Service[BillingDeps], client: httpx.AsyncClient, lender: FakeLender
) -> None:
    deps = service.deps
    bea = as_user(service, "bea", "billing")
    await a_signed_job(deps, "job-1", "12000.00")
    paid = {"amount": "1750.55", "received_on": "2026-12-01", "method": "check"}
    assert (await client.post("/jobs/job-1/payments", headers=bea, json=paid)).status_code == 201

    made = await client.post(
        "/jobs/job-1/financing/applications", headers=bea, json={"channel": "email"}
    )
    assert made.status_code == 201, made.text
    application = made.json()
    assert (application["amount"], application["status"]) == ("10249.45", "pending")
    ((method, path, asked),) = lender.received
    assert (method, path) == ("POST", "/v1/applications")
    assert asked["amount"] == "10249.45" and asked["reference"] == application["application_id"]
    assert asked["applicant"] == {"name": "Dana Reyes", "email": "dana@home.example", "phone": None}
    (event,) = await sent_events(service)
    assert (
        event["link"]
        == application["link"]
        == lender.applications[application["lender_ref"]]["applicant_url"]
    )
    assert (event["channel"], event["lender"], event["customer_email"]) == (
        "email",
        "Hearth",
        "dana@home.example",
    )
    again = await client.post(
        "/jobs/job-1/financing/applications", headers=bea, json={"channel": "email"}
    )
    assert again.status_code == 409 and "one at a time" in again.json()["detail"]

    # The customer completes it on the lender's page; billing reads the answer and the offers.
    url = f"/financing/applications/{application['application_id']}"
    assert (await client.post(f"{url}/offers/offer-60m/choose", headers=bea)).status_code == 409
    async with httpx.AsyncClient() as browser:
        assert (await browser.post(application["link"])).status_code == 200
    refreshed = (await client.post(f"{url}/refresh", headers=bea)).json()
    assert refreshed["status"] == "qualified"
    assert [
        (o["offer_id"], o["term_months"], o["monthly_payment"]) for o in refreshed["offers"]
    ] == [
        ("offer-12m", 12, "854.12"),
        ("offer-60m", 60, "207.77"),
        ("offer-120m", 120, "135.39"),
    ]
    folder = (await client.get("/finance-folders/job-1", headers=bea)).json()["folder"]
    assert folder["financing"]["loan_status"] == "approved"

    unknown = await client.post(f"{url}/offers/offer-7y/choose", headers=bea)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "path.offer_id"
    chosen = (await client.post(f"{url}/offers/offer-60m/choose", headers=bea)).json()
    assert (chosen["status"], chosen["chosen_offer_id"]) == ("offer_selected", "offer-60m")
    assert lender.applications[application["lender_ref"]]["selected_offer_id"] == "offer-60m"
    folder = (await client.get("/finance-folders/job-1", headers=bea)).json()["folder"]
    assert folder["financing"]["loan_amount"] == "10249.45"

    # The job is completed; the lender's check, sent on by the customer, pays the balance.
    completed = MilestoneChanged(
        job_id="job-1", from_milestone="installed", to_milestone="completed", by="ann"
    )
    await apply(deps, jobs_event, completed, "job-1")
    funds = {"amount": "10249.45", "received_on": "2026-12-10", "reference": "check 10452"}
    booked = await client.post(f"{url}/funded", headers=bea, json=funds)
    assert booked.status_code == 201, booked.text
    record = booked.json()["record"]
    assert (record["method"], record["financing"], record["amount"]) == (
        "financing",
        True,
        "10249.45",
    )
    assert Decimal(booked.json()["balance"]["balance"]) == Decimal("0.00")
    assert len(await published(service, "billing.final_payment_received.v1")) == 1
    twice = await client.post(f"{url}/funded", headers=bea, json=funds)
    assert twice.status_code == 409 and "recorded already" in twice.json()["detail"]
    (listed,) = (await client.get("/jobs/job-1/financing/applications", headers=bea)).json()
    assert (listed["status"], listed["payment_id"]) == ("funded", record["record_id"])
    folder = (await client.get("/finance-folders/job-1", headers=bea)).json()["folder"]
    assert folder["financing"]["loan_status"] == "funded"
    zero = await client.post(
        "/jobs/job-1/financing/applications", headers=bea, json={"channel": "email"}
    )
    assert zero.status_code == 409 and "nothing to finance" in zero.json()["detail"]


async def test_not_qualified_refused_and_unreachable(
    service: Service[BillingDeps], client: httpx.AsyncClient, lender: FakeLender
) -> None:
    deps = service.deps
    bea = as_user(service, "bea", "billing")
    await a_signed_job(deps, "job-2", "30000.00")  # above the fake lender's limit
    text = await client.post(
        "/jobs/job-2/financing/applications", headers=bea, json={"channel": "text"}
    )
    assert text.status_code == 422 and text.json()["errors"][0]["field"] == "body.channel"
    assert "no text gateway" in text.json()["detail"]
    assert lender.received == []  # refused before the lender was asked

    made = (
        await client.post(
            "/jobs/job-2/financing/applications", headers=bea, json={"channel": "email"}
        )
    ).json()
    async with httpx.AsyncClient() as browser:
        await browser.post(made["link"])
    url = f"/financing/applications/{made['application_id']}"
    declined = (await client.post(f"{url}/refresh", headers=bea)).json()
    assert (declined["status"], declined["offers"]) == ("not_qualified", [])
    folder = (await client.get("/finance-folders/job-2", headers=bea)).json()["folder"]
    assert folder["financing"]["loan_status"] == "declined"
    refused = await client.post(f"{url}/offers/offer-12m/choose", headers=bea)
    assert refused.status_code == 409 and "not qualified" in refused.json()["detail"]
    funds = {"amount": "100.00", "received_on": "2026-12-10", "reference": "check 1"}
    assert (await client.post(f"{url}/funded", headers=bea, json=funds)).status_code == 409

    # The lender down: a clear 503, and nothing stored or published half-way.
    await a_signed_job(deps, "job-3", "8000.00")
    lender.stop()
    down = await client.post(
        "/jobs/job-3/financing/applications", headers=bea, json={"channel": "email"}
    )
    assert down.status_code == 503, down.text
    assert down.json()["type"] == "urn:roofline:problem:lender-unavailable"
    assert "could not be reached" in down.json()["detail"]
    assert (await client.get("/jobs/job-3/financing/applications", headers=bea)).json() == []
    folder = (await client.get("/finance-folders/job-3", headers=bea)).json()["folder"]
    assert folder["financing"]["loan_status"] == "none"
    assert len(await sent_events(service)) == 1  # job-2's only

    # No lender configured: refused, naming the setting.
    unconfigured = dataclasses.replace(deps, lender=None)
    caller = Caller(user_id="bea", tenant_id="acme", roles=frozenset({"billing"}))
    with pytest.raises(LenderNotConfigured, match="ROOFLINE_LENDER_URL"):
        await financing.apply_for_financing(
            unconfigured, caller, "job-3", NewFinancingApplication(channel="email")
        )
    assert (
        await client.post(
            "/jobs/nope/financing/applications", headers=bea, json={"channel": "email"}
        )
    ).status_code == 404
    assert (
        await client.post("/financing/applications/nope/refresh", headers=bea)
    ).status_code == 404
