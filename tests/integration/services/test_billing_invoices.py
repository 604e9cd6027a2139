"""Invoices on the real PostgreSQL, through the billing service's HTTP API with its policy layer:
drafted from the job's line items and change orders, refused without a line item (even for a
$0.00 job a line is needed), numbered per tenant, sent once and immutable after, printable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx

from services.billing.ports import BillingDeps
from shared.contracts.jobs import ChangeOrderAdded, LineItemData, LineItemsChanged
from shared.platform.service import Service
from tests.integration.services.test_billing_money import (
    a_signed_job,
    apply,
    as_user,
    jobs_event,
    published,
)


def item(n: int, description: str, total: str) -> LineItemData:
    return LineItemData(
        line_item_id=f"li-{n}",
        description=description,
        quantity=Decimal("1"),
        unit_price=Decimal(total),
        total=Decimal(total),
        completed=False,
    )


async def test_an_invoice_bills_the_lines_and_change_orders_and_is_immutable_once_sent(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    deps = billing_service.deps
    bea = as_user(billing_service, "bea", "billing")
    await a_signed_job(deps, "job-1", "12000.00")
    # No line item yet: never an invoice without one.
    refused = await billing_client.post("/jobs/job-1/invoices", headers=bea, json={})
    assert refused.status_code == 409
    assert refused.json()["rules"][0]["rule"] == "at-least-one-line-item"

    lines = LineItemsChanged(
        job_id="job-1",
        change="added",
        line_item_id="li-2",
        line_items=[
            item(1, "Architectural shingle roof", "11800.00"),
            item(2, "Haul-away", "200.00"),
        ],
    )
    await apply(deps, jobs_event, lines, "job-1")
    change = ChangeOrderAdded(
        job_id="job-1",
        change_order_id="co-1",
        signed_on=date(2026, 11, 25),
        amount=Decimal("750.00"),
        note="snow guards",
        by="sam",
        contract_price=Decimal("12750.00"),
        adjustment=False,
    )
    await apply(deps, jobs_event, change, "job-1")
    await billing_client.post(
        "/jobs/job-1/payments",
        headers=bea,
        json={"amount": "5000.00", "received_on": "2026-12-01", "method": "check"},
    )
    drafted = await billing_client.post("/jobs/job-1/invoices", headers=bea, json={})
    assert drafted.status_code == 201, drafted.text
    invoice = drafted.json()
    assert invoice["number"] == f"INV-{date.today().year}-0001"
    assert [line["description"] for line in invoice["lines"]] == [
        "Architectural shingle roof",
        "Haul-away",
        "Change order: snow guards",
    ]
    assert Decimal(invoice["total"]) == Decimal("12750.00")  # to the cent: the sum of the lines
    assert (Decimal(invoice["paid"]), Decimal(invoice["due"])) == (
        Decimal("5000.00"),
        Decimal("7750.00"),
    )
    assert invoice["bill_to"] == "Dana Reyes" and invoice["status"] == "draft"

    sent = await billing_client.post(f"/invoices/{invoice['invoice_id']}/send", headers=bea)
    assert sent.json()["status"] == "sent"
    again = await billing_client.post(f"/invoices/{invoice['invoice_id']}/send", headers=bea)
    assert again.status_code == 409 and "credit note" in again.json()["detail"]
    assert len(await published(billing_service, "billing.invoice_sent.v1")) == 1
    page = await billing_client.get(f"/invoices/{invoice['invoice_id']}/page", headers=bea)
    assert page.headers["content-type"].startswith("text/html")
    assert "Change order: snow guards" in page.text and "7750.00" in page.text
    second = (
        await billing_client.post(
            "/jobs/job-1/invoices", headers=bea, json={"kind": "insurer", "bill_to": "Acme Mutual"}
        )
    ).json()
    assert (
        second["number"] == f"INV-{date.today().year}-0002" and second["bill_to"] == "Acme Mutual"
    )
    listed = (await billing_client.get("/jobs/job-1/invoices", headers=bea)).json()
    assert [i["number"] for i in listed] == [invoice["number"], second["number"]]
    ivan = as_user(billing_service, "ivan", "installer")
    assert (
        await billing_client.get(f"/invoices/{invoice['invoice_id']}", headers=ivan)
    ).status_code == 403
