"""A returned check followed up (seed 002), on the real PostgreSQL through the billing service's
HTTP API with its policy layer: the posted check reversed in the same transaction, mailing
refused until the customer was called, the follow-up scheduled a few business days out and met
when it is done."""

from __future__ import annotations

from decimal import Decimal

import httpx
import sqlalchemy as sa

from services.billing.ports import BillingDeps
from shared.platform.service import Service
from tests.integration.services.test_billing_money import a_signed_job, as_user, published


async def test_a_returned_check_is_called_in_mailed_tracked_and_followed_up(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-1", "9000.00")
    bea = as_user(billing_service, "bea", "billing")
    posted = await billing_client.post(
        "/jobs/job-1/payments",
        headers=bea,
        json={"amount": "4000.00", "received_on": "2026-12-01", "method": "insurance_check"},
    )
    payment_id = posted.json()["record"]["record_id"]
    returned = await billing_client.post(
        "/jobs/job-1/returned-checks",
        headers=bea,
        json={
            "reason": "mortgage_not_signed",
            "amount": "4000.00",
            "payer": "Acme Mutual",
            "payment_id": payment_id,
        },
    )
    assert returned.status_code == 201, returned.text
    check = returned.json()
    balance = (await billing_client.get("/jobs/job-1/balance", headers=bea)).json()
    assert Decimal(balance["balance"]) == Decimal("9000.00")  # the posted check is reversed

    url = f"/returned-checks/{check['returned_check_id']}"
    early = await billing_client.post(
        f"{url}/mailed", headers=bea, json={"tracking_number": "9400 1000"}
    )
    assert early.status_code == 409 and early.json()["missing"] == ["a call to the customer"]
    called = await billing_client.post(
        f"{url}/call", headers=bea, json={"note": "told Dana: the mortgage company must sign"}
    )
    assert called.status_code == 200
    mailed = (
        await billing_client.post(
            f"{url}/mailed", headers=bea, json={"tracking_number": "9400 1000"}
        )
    ).json()
    assert mailed["follow_up_by"] is not None and mailed["carrier"] == "USPS Priority Mail"
    deadlines = billing_service.platform.policy.tables.deadlines  # type: ignore[union-attr]
    async with billing_service.platform.uow_factory() as transaction:
        (status,) = (
            await transaction.connection.execute(
                sa.select(deadlines.c.status).where(
                    deadlines.c.subject == check["returned_check_id"]
                )
            )
        ).scalars()
    assert status == "open"
    assert [
        c["returned_check_id"]
        for c in (await billing_client.get("/returned-checks", headers=bea)).json()
    ] == [check["returned_check_id"]]
    closed = await billing_client.post(
        f"{url}/follow-up",
        headers=bea,
        json={"delivered": True, "outcome": "Dana has it; will return it signed"},
    )
    assert closed.json()["delivered"] is True
    async with billing_service.platform.uow_factory() as transaction:
        (status,) = (
            await transaction.connection.execute(
                sa.select(deadlines.c.status).where(
                    deadlines.c.subject == check["returned_check_id"]
                )
            )
        ).scalars()
    assert status == "met"
    assert (await billing_client.get("/returned-checks", headers=bea)).json() == []
    again = await billing_client.post(f"{url}/call", headers=bea, json={"note": "x"})
    assert again.status_code == 409
    for event in ("check_returned", "check_mailed_back", "returned_check_closed"):
        assert await published(billing_service, f"billing.{event}.v1"), event
    timeline = (await billing_client.get("/jobs/job-1/billing-timeline", headers=bea)).json()
    assert [line["kind"] for line in timeline] == [
        "payment",
        "reversal",
        "returned_check",
        "returned_check",
        "returned_check",
        "returned_check",
    ]
