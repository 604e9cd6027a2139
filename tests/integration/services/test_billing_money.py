"""Money on a job on the real PostgreSQL, through the billing service's HTTP API (in-process
over ASGI): the balance derived from the records, payments kept once per Idempotency-Key (50 at
once, half of them retries), reversals, and the final payment reported once and undone by a
reversal. Jobs' events are applied by billing's own consumer handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from services.billing.handlers import folders
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.base import EventData
from shared.contracts.jobs import ChangeOrderAdded, ContractSigned, LeadCreated, MilestoneChanged
from shared.platform.http.auth import mint_token
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.service import Service

Handler = Callable[[BillingUnitOfWork, Envelope, Any], Awaitable[None]]


def as_user(billing_service: Service[BillingDeps], user: str, *roles: str) -> dict[str, str]:
    token = mint_token(billing_service.platform.settings, user=user, tenant="acme", roles=roles)
    return {"Authorization": f"Bearer {token}"}


async def jobs_event(uow: BillingUnitOfWork, envelope: Envelope, event: Any) -> None:
    """A jobs' event as billing's consumer hands it over: a run of one."""
    await folders.project_jobs(uow, [(envelope, event)])


async def apply(deps: BillingDeps, handle: Handler, event: EventData, job_id: str) -> None:
    outgoing = encode_event(event, source="jobs", subject=job_id, tenant_id="acme", max_bytes=10**6)
    async with deps.unit_of_work("acme") as uow:
        await handle(uow, Envelope.from_bytes(outgoing.body, 10**6), event)
        await uow.commit()


async def a_signed_job(deps: BillingDeps, job_id: str, price: str = "12000.00") -> None:
    lead = LeadCreated(
        job_id=job_id,
        customer_name="Dana Reyes",
        email="dana@home.example",
        property_address="12 Elm St",
        salesman_id="sam",
    )
    await apply(deps, jobs_event, lead, job_id)
    signed = ContractSigned(
        job_id=job_id, signed_on=date(2026, 11, 20), contract_price=Decimal(price), by="sam"
    )
    await apply(deps, jobs_event, signed, job_id)


async def published(billing_service: Service[BillingDeps], event_type: str) -> list[dict[str, Any]]:
    outbox = billing_service.platform.tables.outbox
    async with billing_service.platform.uow_factory() as transaction:
        rows = await transaction.connection.execute(
            sa.select(outbox.c.key).where(outbox.c.event_type == event_type)
        )
        return [dict(row._mapping) for row in rows]


PAYMENT = {"amount": "1000.00", "received_on": "2026-12-01", "method": "check"}


async def test_fifty_payments_at_once_half_of_them_retries_end_with_the_exact_balance(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-1", "30000.00")
    bea = as_user(billing_service, "bea", "billing")
    keys = [f"key-{n}" for n in range(25)]
    requests = [(key, n) for n in range(2) for key in keys]  # every key sent twice

    async def pay(key: str) -> httpx.Response:
        return await billing_client.post(
            "/jobs/job-1/payments",
            headers=bea | {"Idempotency-Key": key},
            json={**PAYMENT, "description": key},
        )

    answers = await asyncio.gather(*(pay(key) for key, _ in requests))
    assert {a.status_code for a in answers} == {201}
    by_key: dict[str, set[str]] = {}
    for (key, _), answer in zip(requests, answers, strict=True):
        by_key.setdefault(key, set()).add(answer.json()["record"]["record_id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a retry gets the first answer
    balance = (await billing_client.get("/jobs/job-1/balance", headers=bea)).json()
    assert Decimal(balance["payments"]) == Decimal("25000.00")
    assert Decimal(balance["balance"]) == Decimal("5000.00")
    # The same key with another body is refused; nothing more is recorded.
    reused = await billing_client.post(
        "/jobs/job-1/payments", headers=bea | {"Idempotency-Key": "key-0"}, json=PAYMENT
    )
    assert reused.status_code == 409
    assert (
        len((await billing_client.get("/finance-folders/job-1", headers=bea)).json()["records"])
        == 25
    )


async def test_the_final_payment_is_reported_once_and_a_reversal_undoes_it(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    deps = billing_service.deps
    bea = as_user(billing_service, "bea", "billing")
    await a_signed_job(deps, "job-2", "10000.00")
    change = ChangeOrderAdded(
        job_id="job-2",
        change_order_id="co-1",
        signed_on=date(2026, 11, 25),
        amount=Decimal("750.00"),
        note="snow guards",
        by="sam",
        contract_price=Decimal("10750.00"),
        adjustment=False,
    )
    await apply(deps, jobs_event, change, "job-2")
    await apply(deps, jobs_event, change, "job-2")  # a replay: once
    first = await billing_client.post(
        "/jobs/job-2/payments", headers=bea, json={**PAYMENT, "amount": "5000.00"}
    )
    assert first.status_code == 201
    last = await billing_client.post(
        "/jobs/job-2/payments", headers=bea, json={**PAYMENT, "amount": "5750.00", "method": "ach"}
    )
    assert Decimal(last.json()["balance"]["balance"]) == Decimal("0.00")
    # Paid in full but not completed: no release yet. Completion releases it, once.
    assert await published(billing_service, "billing.final_payment_received.v1") == []
    completed = MilestoneChanged(
        job_id="job-2", from_milestone="approved", to_milestone="completed", by="ann"
    )
    await apply(deps, jobs_event, completed, "job-2")
    await apply(deps, jobs_event, completed, "job-2")
    assert len(await published(billing_service, "billing.final_payment_received.v1")) == 1
    folder = (await billing_client.get("/finance-folders/job-2", headers=bea)).json()
    assert folder["folder"]["released_on"] is not None

    # The check bounces: reversed (a record of its own), the release undone.
    check = first.json()["record"]["record_id"]
    reversed_ = await billing_client.post(
        f"/jobs/job-2/payments/{check}/reversal",
        headers=bea,
        json={"reversed_on": "2026-12-03", "reason": "returned check: not signed"},
    )
    assert reversed_.status_code == 201, reversed_.text
    assert Decimal(reversed_.json()["balance"]["balance"]) == Decimal("5000.00")
    again = await billing_client.post(
        f"/jobs/job-2/payments/{check}/reversal",
        headers=bea,
        json={"reversed_on": "2026-12-03", "reason": "twice"},
    )
    assert again.status_code == 409 and "reversed already" in again.json()["detail"]
    assert len(await published(billing_service, "billing.final_payment_reversed.v1")) == 1
    kinds = [
        r["kind"]
        for r in (await billing_client.get("/finance-folders/job-2", headers=bea)).json()["records"]
    ]
    assert kinds == ["change_order", "payment", "payment", "reversal"]
    # Paid again: released again.
    await billing_client.post(
        "/jobs/job-2/payments", headers=bea, json={**PAYMENT, "amount": "5000.00"}
    )
    assert len(await published(billing_service, "billing.final_payment_received.v1")) == 2


async def test_money_is_for_billing_and_never_for_the_field(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-3")
    ivan = as_user(billing_service, "ivan", "installer")
    assert (await billing_client.get("/jobs/job-3/balance", headers=ivan)).status_code == 403
    sam = as_user(billing_service, "sam", "sales")
    assert (
        await billing_client.post("/jobs/job-3/payments", headers=sam, json=PAYMENT)
    ).status_code == 403
    bea = as_user(billing_service, "bea", "billing")
    bad = await billing_client.post(
        "/jobs/job-3/payments", headers=bea, json={**PAYMENT, "amount": "10.005"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.amount"
    assert (
        await billing_client.post("/jobs/nope/payments", headers=bea, json=PAYMENT)
    ).status_code == 404


async def test_a_customers_balance_spans_their_jobs(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-4", "8000.00")
    await a_signed_job(billing_service.deps, "job-5", "2000.00")
    bea = as_user(billing_service, "bea", "billing")
    await billing_client.post(
        "/jobs/job-5/payments", headers=bea, json={**PAYMENT, "amount": "2000.00"}
    )
    both = (await billing_client.get("/jobs/job-4/customer-balance", headers=bea)).json()
    assert both["customer_key"] == "dana@home.example"
    assert [j["folder"]["job_id"] for j in both["jobs"]] == ["job-4", "job-5"]
    assert Decimal(both["balance"]["balance"]) == Decimal("8000.00")
