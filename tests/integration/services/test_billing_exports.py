"""The accounting export on the real PostgreSQL against a stand-in QuickBooks Online (a real HTTP
server that checks each entity's shape and refuses a repeated request id), through the billing
service's HTTP API and its own export worker: a sent invoice goes with its customer, a payment
linked to the invoice it pays, 503s retried to one invoice, a lost answer resolved without a
second one, a work order with no line item refused with the policy's reason and never sent, a
completed ticket's work order (its events through Kafka), and a fault kept as the document's last
error until a retry sends it again. One service for the module: each test has its own jobs."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.billing import app as billing_app
from services.billing.domain.exports import request_id_of
from services.billing.handlers import exports
from services.billing.ports import BillingDeps
from shared.contracts.base import EventData
from shared.contracts.jobs import ContractSigned, LeadCreated, LineItemData, LineItemsChanged
from shared.contracts.tickets import (
    TicketAssignment,
    TicketCustomer,
    TicketLineItem,
    TicketLineItemsChanged,
    TicketOpened,
    TicketStatusChanged,
)
from shared.platform.http.auth import mint_token
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.service import Service
from tests.integration.services.test_billing_money import jobs_event
from tests.support.harness import (
    create_topics,
    eventually,
    metric_value,
    raw_producer,
    running,
    send_envelope,
    settings_for,
)
from tests.support.quickbooks import QuickBooksStandIn

TENANT = "acme"


@pytest.fixture(scope="module")
def quickbooks() -> Iterator[QuickBooksStandIn]:
    server = QuickBooksStandIn().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def service(
    namespace: str, database_url: str, bootstrap_servers: str, quickbooks: QuickBooksStandIn
) -> AsyncIterator[Service[BillingDeps]]:
    settings = settings_for(
        "billing",
        f"{namespace}q",
        database_url,
        bootstrap_servers,
        quickbooks_url=quickbooks.url,
        quickbooks_realm_id=quickbooks.realm_id,
        quickbooks_token=quickbooks.token,
        accounting_export_interval_s=0.05,
        accounting_export_backoff_s=0.05,
        accounting_export_backoff_max_s=0.2,
    )
    await create_topics(settings, "billing", "jobs", "tickets", "messaging")
    built = billing_app.build(settings)
    async with running(built.platform):
        yield built


@pytest.fixture(scope="module")
async def client(service: Service[BillingDeps]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        yield client


def as_user(service: Service[BillingDeps], user: str, *roles: str) -> dict[str, str]:
    token = mint_token(service.platform.settings, user=user, tenant=TENANT, roles=roles)
    return {"Authorization": f"Bearer {token}"}


Handler = Callable[[Any, Envelope, Any], Awaitable[None]]


async def apply(deps: BillingDeps, handle: Handler, event: EventData, subject: str) -> None:
    """Apply another service's event with billing's own handler, as its consumer would."""
    outgoing = encode_event(event, source="x", subject=subject, tenant_id=TENANT, max_bytes=10**6)
    async with deps.unit_of_work(TENANT) as uow:
        await handle(uow, Envelope.from_bytes(outgoing.body, 10**6), event)
        await uow.commit()


def item(n: int, description: str, qty: str, price: str, total: str) -> LineItemData:
    return LineItemData(
        line_item_id=f"li-{n}",
        description=description,
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        total=Decimal(total),
        completed=False,
    )


async def a_job(
    deps: BillingDeps, job_id: str, name: str, email: str, *lines: LineItemData
) -> None:
    lead = LeadCreated(
        job_id=job_id,
        customer_name=name,
        email=email,
        phone="555-0100",
        property_address="12 Elm St",
        salesman_id="sam",
    )
    await apply(deps, jobs_event, lead, job_id)
    total = sum((line.total for line in lines), Decimal("0.00"))
    signed = ContractSigned(
        job_id=job_id, signed_on=date(2026, 11, 20), contract_price=total, by="sam"
    )
    await apply(deps, jobs_event, signed, job_id)
    changed = LineItemsChanged(
        job_id=job_id, change="added", line_item_id="li-1", line_items=list(lines)
    )
    await apply(deps, jobs_event, changed, job_id)


async def an_invoice_sent(
    service: Service[BillingDeps], client: httpx.AsyncClient, job_id: str
) -> dict[str, Any]:
    bea = as_user(service, "bea", "billing")
    drafted = await client.post(f"/jobs/{job_id}/invoices", headers=bea, json={})
    assert drafted.status_code == 201, drafted.text
    sent = await client.post(f"/invoices/{drafted.json()['invoice_id']}/send", headers=bea)
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


async def settled(
    service: Service[BillingDeps], client: httpx.AsyncClient, doc_type: str, doc_id: str
) -> dict[str, Any]:
    """The document's export once it is no longer pending."""
    bea = as_user(service, "bea", "billing")

    async def done() -> dict[str, Any] | None:
        answer = await client.get(f"/exports/{doc_type}/{doc_id}", headers=bea)
        if answer.status_code == 200 and answer.json()["status"] != "pending":
            return dict(answer.json())
        return None

    return dict(await eventually(done, timeout=30, what=f"{doc_type} {doc_id} exported"))


async def test_a_sent_invoice_goes_with_its_customer_in_quickbooks_shape(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    deps = service.deps
    await a_job(
        deps,
        "job-1",
        "Dana Reyes",
        "dana@home.example",
        item(1, "Architectural shingle roof", "1", "11800.00", "11800.00"),
        item(2, "Gutter guard", "3", "0.10", "0.30"),
        item(3, "Haul-away", "1", "0.20", "0.20"),
    )
    invoice = await an_invoice_sent(service, client, "job-1")
    exported = await settled(service, client, "invoice", invoice["invoice_id"])
    assert exported["status"] == "exported" and exported["entity"] == "Invoice"
    assert exported["attempts"] == 1 and exported["last_error"] is None
    customer = await settled(service, client, "customer", "dana@home.example")
    assert customer["status"] == "exported"

    (qbo_customer,) = quickbooks.find("Customer", DisplayName="Dana Reyes")
    assert qbo_customer["Id"] == customer["external_id"]
    assert qbo_customer["PrimaryEmailAddr"] == {"Address": "dana@home.example"}
    assert qbo_customer["PrimaryPhone"] == {"FreeFormNumber": "555-0100"}
    (qbo_invoice,) = quickbooks.find("Invoice", DocNumber=invoice["number"])
    assert qbo_invoice["Id"] == exported["external_id"]
    assert qbo_invoice["CustomerRef"] == {"value": customer["external_id"]}
    assert [line["Amount"] for line in qbo_invoice["Line"]] == [
        Decimal("11800.00"),
        Decimal("0.30"),
        Decimal("0.20"),
    ]
    assert qbo_invoice["Line"][1]["SalesItemLineDetail"]["Qty"] == Decimal("3")
    assert qbo_invoice["TotalAmt"] == Decimal("11800.50") == Decimal(invoice["total"])
    request_id = request_id_of(TENANT, "invoice", invoice["invoice_id"])
    (sent,) = quickbooks.requests_for(request_id)
    assert exported["request_id"] == request_id and sent.minor_version == "75"
    assert '"Amount":0.30' in sent.body and '"Amount":0.20' in sent.body


async def test_a_payment_is_exported_linked_to_the_invoice_it_pays(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    deps = service.deps
    bea = as_user(service, "bea", "billing")
    await a_job(
        deps, "job-2", "Pat Moore", "pat@home.example", item(1, "Roof", "1", "9000.00", "9000.00")
    )
    deposit = await client.post(
        "/jobs/job-2/payments",
        headers=bea,
        json={"amount": "1000.00", "received_on": "2026-11-21", "method": "check"},
    )
    invoice = await an_invoice_sent(service, client, "job-2")
    final = await client.post(
        "/jobs/job-2/payments",
        headers=bea,
        json={"amount": "8000.00", "received_on": "2026-12-05", "method": "ach"},
    )
    qbo_invoice_id = (await settled(service, client, "invoice", invoice["invoice_id"]))[
        "external_id"
    ]
    paid = await settled(service, client, "payment", final.json()["record"]["record_id"])
    assert paid["status"] == "exported" and paid["entity"] == "Payment"
    (payment,) = [p for p in quickbooks.of("Payment") if p["Id"] == paid["external_id"]]
    assert payment["TotalAmt"] == Decimal("8000.00") and payment["TxnDate"] == "2026-12-05"
    assert payment["Line"] == [
        {
            "Amount": Decimal("8000.00"),
            "LinkedTxn": [{"TxnId": qbo_invoice_id, "TxnType": "Invoice"}],
        }
    ]
    # The deposit came before any invoice: on the customer's account, unapplied.
    early = await settled(service, client, "payment", deposit.json()["record"]["record_id"])
    (unapplied,) = [p for p in quickbooks.of("Payment") if p["Id"] == early["external_id"]]
    assert unapplied["Line"] == [] and unapplied["UnappliedAmt"] == Decimal("1000.00")
    (qbo_invoice,) = quickbooks.find("Invoice", Id=qbo_invoice_id)
    assert qbo_invoice["Balance"] == Decimal("1000.00")  # 9000 billed, 8000 applied


async def test_a_send_answered_503_is_retried_and_ends_exported_once(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    await a_job(
        service.deps,
        "job-3",
        "Kim Ortiz",
        "kim@home.example",
        item(1, "Roof", "1", "500.00", "500.00"),
    )
    quickbooks.fail_next(2, entity="Invoice")
    invoice = await an_invoice_sent(service, client, "job-3")
    exported = await settled(service, client, "invoice", invoice["invoice_id"])
    assert exported["status"] == "exported" and exported["attempts"] == 3
    assert len(quickbooks.find("Invoice", DocNumber=invoice["number"])) == 1
    tries = quickbooks.requests_for(exported["request_id"])
    assert [t.status for t in tries] == [503, 503, 200]
    assert metric_value(service.platform, "roofline_billing_export_retries_total") >= 2


async def test_a_lost_answer_is_resolved_without_a_second_invoice(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    await a_job(
        service.deps,
        "job-4",
        "Ana Lima",
        "ana@home.example",
        item(1, "Roof", "1", "750.00", "750.00"),
    )
    quickbooks.lose_next(entity="Invoice")
    invoice = await an_invoice_sent(service, client, "job-4")
    exported = await settled(service, client, "invoice", invoice["invoice_id"])
    (only,) = quickbooks.find("Invoice", DocNumber=invoice["number"])
    assert exported["status"] == "exported" and exported["external_id"] == only["Id"]
    assert exported["attempts"] == 2 and "answer was lost" in exported["note"]
    # Done once (the answer dropped), then refused as a repeat and looked up.
    assert [t.status for t in quickbooks.requests_for(exported["request_id"])] == [200, 400]


def ticket_customer(name: str, email: str) -> TicketCustomer:
    return TicketCustomer(name=name, property_address="4 Oak Ave", email=email)


def ticket_opened(
    ticket_id: str,
    number: str,
    customer: TicketCustomer,
    *lines: TicketLineItem,
    paid: bool = False,
) -> TicketOpened:
    total = sum((line.total for line in lines), Decimal("0.00"))
    return TicketOpened(
        ticket_id=ticket_id,
        ticket_number=number,
        type="service_call",
        status="new",
        customer=customer,
        line_items=list(lines),
        amount_due=Decimal("0.00") if paid else total,
        payment_status="paid" if paid else "unpaid",
        assignment=TicketAssignment(),
        opened_by="cara",
    )


def completed(ticket_id: str) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket_id,
        job_id=None,
        from_status="in_progress",
        to_status="complete",
        by="tom",
        completed_at=datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
    )


def ticket_line(n: int, description: str, total: str) -> TicketLineItem:
    return TicketLineItem(
        line_item_id=f"tl-{n}",
        description=description,
        quantity=Decimal("1"),
        unit_price=Decimal(total),
        total=Decimal(total),
    )


async def test_a_work_order_with_no_line_item_is_refused_with_the_reason_and_never_sent(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    deps = service.deps
    bea = as_user(service, "bea", "billing")
    customer = ticket_customer("Joe Wu", "joe@home.example")
    await apply(
        deps, exports.on_ticket_opened, ticket_opened("t-empty", "T-2026-0900", customer), "t-empty"
    )
    await apply(
        deps,
        functools.partial(exports.on_ticket_status, deps.policy),
        completed("t-empty"),
        "t-empty",
    )

    refused = (await client.get("/exports/work_order/t-empty", headers=bea)).json()
    assert refused["status"] == "refused"
    assert "needs at least one line item" in refused["last_error"]
    listed = (await client.get("/exports?status=refused", headers=bea)).json()
    assert "t-empty" in [e["doc_id"] for e in listed]
    again = await client.post("/exports/work_order/t-empty/retry", headers=bea)
    assert again.status_code == 409 and again.json()["rules"][0]["rule"] == "at-least-one-line-item"
    # Its customer went; the work order never did.
    await settled(service, client, "customer", "joe@home.example")
    assert quickbooks.requests_for(refused["request_id"]) == []
    assert quickbooks.find("Invoice", DocNumber="T-2026-0900") == []

    # A $0.00 line added to the completed ticket: now it goes.
    lines = TicketLineItemsChanged(
        ticket_id="t-empty",
        job_id=None,
        customer=customer,
        line_items=[ticket_line(1, "Warranty inspection", "0.00")],
        amount_due=Decimal("0.00"),
        payment_status="no_charge",
    )
    await apply(deps, functools.partial(exports.on_ticket_lines, deps.policy), lines, "t-empty")
    exported = await settled(service, client, "work_order", "t-empty")
    assert exported["status"] == "exported"
    (work_order,) = quickbooks.find("Invoice", DocNumber="T-2026-0900")
    assert work_order["TotalAmt"] == Decimal("0.00")


async def test_a_completed_tickets_work_order_is_exported_from_tickets_events(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    settings = service.platform.settings
    customer = ticket_customer("Mia Chen", "mia@home.example")
    opened = ticket_opened(
        "t-1",
        "T-2026-0901",
        customer,
        ticket_line(1, "Service call", "125.00"),
        ticket_line(2, "Sealant", "18.40"),
        paid=True,
    )
    async with raw_producer(settings.kafka_bootstrap_servers) as producer:
        for event in (opened, completed("t-1")):
            outgoing = encode_event(
                event, source="tickets", subject="t-1", tenant_id=TENANT, max_bytes=10**6
            )
            await send_envelope(producer, settings.topic("tickets"), outgoing)

    exported = await settled(service, client, "work_order", "t-1")
    assert exported["status"] == "exported" and exported["entity"] == "SalesReceipt"
    (receipt,) = quickbooks.find("SalesReceipt", DocNumber="T-2026-0901")
    assert receipt["TxnDate"] == "2026-12-04"
    assert [line["Amount"] for line in receipt["Line"]] == [Decimal("125.00"), Decimal("18.40")]
    (qbo_customer,) = quickbooks.find("Customer", DisplayName="Mia Chen")
    assert receipt["CustomerRef"] == {"value": qbo_customer["Id"]}


async def test_a_fault_is_kept_as_the_last_error_until_a_retry_sends_it_again(
    service: Service[BillingDeps], client: httpx.AsyncClient, quickbooks: QuickBooksStandIn
) -> None:
    deps = service.deps
    bea = as_user(service, "bea", "billing")
    roof = item(1, "Roof", "1", "300.00", "300.00")
    await a_job(deps, "job-7a", "Sam Lee", "sam.one@home.example", roof)
    await a_job(deps, "job-7b", "Sam Lee", "sam.two@home.example", roof)
    await settled(
        service, client, "invoice", (await an_invoice_sent(service, client, "job-7a"))["invoice_id"]
    )
    second = await an_invoice_sent(service, client, "job-7b")

    # Another Sam Lee: QuickBooks refuses the name (a validation fault: no retry helps).
    failed = await settled(service, client, "customer", "sam.two@home.example")
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert "Duplicate Name Exists Error" in failed["last_error"] and "6240" in failed["last_error"]
    listed = (await client.get("/exports?status=failed", headers=bea)).json()
    assert "sam.two@home.example" in [e["doc_id"] for e in listed]
    waiting = (await client.get(f"/exports/invoice/{second['invoice_id']}", headers=bea)).json()
    assert waiting["status"] == "pending"
    assert waiting["note"] == (
        "waiting for its customer 'sam.two@home.example' to be exported (failed)"
    )
    assert (
        metric_value(
            service.platform, "roofline_billing_export_failures_total", doc_type="customer"
        )
        >= 1
    )
    ivan = as_user(service, "ivan", "installer")
    assert (await client.get("/exports?status=failed", headers=ivan)).status_code == 403

    # The bookkeeper tells the two apart in QuickBooks; the office sends it again.
    (first,) = quickbooks.find("Customer", DisplayName="Sam Lee")
    quickbooks.rename("Customer", first["Id"], "Sam Lee (sam.one)")
    retried = await client.post("/exports/customer/sam.two@home.example/retry", headers=bea)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert (await settled(service, client, "customer", "sam.two@home.example"))["status"] == (
        "exported"
    )
    invoice = await settled(service, client, "invoice", second["invoice_id"])
    assert invoice["status"] == "exported" and invoice["note"] is None
    again = await client.post(f"/exports/invoice/{second['invoice_id']}/retry", headers=bea)
    assert again.status_code == 409
    assert (await client.get("/exports/invoice/nope", headers=bea)).status_code == 404

    async def counted() -> float:
        return metric_value(service.platform, "roofline_billing_exports", status="exported")

    assert await eventually(counted, what="the exported gauge") >= 2
