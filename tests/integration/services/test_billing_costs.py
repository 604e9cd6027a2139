"""Job costs and payment information on file on the real PostgreSQL, through the billing
service's HTTP API: expenses by category, "entered and paid" published when it changes (a late
unpaid expense unsettles it), and a reference on file, never a card number."""

from __future__ import annotations

from decimal import Decimal

import httpx

from services.billing.ports import BillingDeps
from shared.platform.service import Service
from tests.integration.services.test_billing_money import a_signed_job, as_user, published

LUMBER = {
    "category": "materials",
    "vendor": "ABC Supply",
    "amount": "4200.00",
    "incurred_on": "2026-12-01",
}


async def test_costs_are_settled_once_entered_and_paid_and_unsettled_by_a_late_expense(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-1")
    bea = as_user(billing_service, "bea", "billing")
    first = await billing_client.post("/jobs/job-1/expenses", headers=bea, json=LUMBER)
    assert first.status_code == 201
    labor = {
        **LUMBER,
        "category": "labor",
        "vendor": "Crew A",
        "amount": "3100.50",
        "paid_on": "2026-12-05",
    }
    costs = (await billing_client.post("/jobs/job-1/expenses", headers=bea, json=labor)).json()
    assert Decimal(costs["total"]) == Decimal("7300.50") and Decimal(costs["unpaid"]) == Decimal(
        "4200.00"
    )
    assert costs["by_category"] == {"materials": "4200.00", "labor": "3100.50"}

    entered = (
        await billing_client.put(
            "/jobs/job-1/expenses/entered", headers=bea, json={"entered": True}
        )
    ).json()
    assert entered["entered"] and not entered["settled"]  # entered, not all paid
    assert await published(billing_service, "billing.job_costs_settled.v1") == []
    lumber_id = entered["expenses"][0]["expense_id"]
    paid = await billing_client.post(
        f"/jobs/job-1/expenses/{lumber_id}/paid", headers=bea, json={"paid_on": "2026-12-08"}
    )
    assert paid.json()["settled"] is True
    assert len(await published(billing_service, "billing.job_costs_settled.v1")) == 1
    # A dumpster invoice arrives late and unpaid: no longer settled, and said so.
    late = {**LUMBER, "category": "disposal", "vendor": "Roll-off Co", "amount": "380.00"}
    assert (await billing_client.post("/jobs/job-1/expenses", headers=bea, json=late)).json()[
        "settled"
    ] is False
    assert len(await published(billing_service, "billing.job_costs_settled.v1")) == 2
    assert len(await published(billing_service, "billing.expense_recorded.v1")) == 4
    missing = await billing_client.post(
        "/jobs/job-1/expenses/nope/paid", headers=bea, json={"paid_on": "2026-12-08"}
    )
    assert missing.status_code == 404
    ivan = as_user(billing_service, "ivan", "installer")
    assert (await billing_client.get("/jobs/job-1/costs", headers=ivan)).status_code == 403


async def test_payment_information_on_file_is_a_reference_never_a_number(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    await a_signed_job(billing_service.deps, "job-2")
    ann = as_user(billing_service, "ann", "csa")
    card = {"kept_in": "card_processor", "reference": "4111 1111 1111 1111"}
    refused = await billing_client.put("/jobs/job-2/payment-on-file", headers=ann, json=card)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.reference"
    kept = {"kept_in": "card_processor", "reference": "cus_9Xa71"}
    folder = (
        await billing_client.put("/jobs/job-2/payment-on-file", headers=ann, json=kept)
    ).json()
    assert folder["payment_on_file"] == kept
    assert await published(billing_service, "billing.payment_info_on_file.v1")
