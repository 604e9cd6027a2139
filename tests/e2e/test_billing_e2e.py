"""Billing as its users meet it, the five services running as processes on the real servers
with the fake lender on real HTTP: a completed job's complaint (opened in tickets) holds its
collection until the repair is complete, the customer refuses, a concession, refuses again and
the file goes to the corporate billing manager, who decides; recoverable depreciation invoiced
for the completed line items only; a returned check followed up; and the rest of the balance
financed through the lender and paid, the final payment on billing's topic.

Jobs' events are published on the jobs topic as jobs publishes them (the final payment releasing
a job in jobs through billing is the job lifecycle e2e's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.cli.fake_lender import FakeLender
from shared.contracts.base import EventData
from shared.contracts.jobs import (
    CustomerContact,
    InsuranceRecorded,
    JobSold,
    LeadCreated,
    LineItemData,
    LineItemsChanged,
    MilestoneChanged,
)
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import decode, raw_producer, read_topic, send_envelope
from tests.support.suite import bearer, wait_for

TENANT = "stormline"
JOB = "job-b1"
CUSTOMER = CustomerContact(
    name="Dana Reyes", phone="555-0100", email="dana@home.example", property_address="12 Elm St"
)


def as_user(user: str, *roles: str) -> dict[str, str]:
    return bearer(user, *roles, tenant=TENANT)


BEA = as_user("bea", "billing")
MAX = as_user("max", "billing_manager")
PAT = as_user("pat", "production_manager")
SUE = as_user("sue", "service_manager")
TOM = as_user("tom", "technician")


@pytest.fixture(scope="module", autouse=True)
def lender() -> Iterator[FakeLender]:
    """The fake lender, named to the services before the suite starts."""
    server = FakeLender().start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOFLINE_LENDER_URL", server.url)
        env.setenv("ROOFLINE_LENDER_API_KEY", server.api_key)
        yield server
    server.stop()


def line(n: int, description: str, total: str, ref: str | None, done: bool) -> LineItemData:
    return LineItemData(
        line_item_id=f"li-{n}",
        description=description,
        quantity=Decimal("1"),
        unit_price=Decimal(total),
        total=Decimal(total),
        insurance_line_ref=ref,
        completed=done,
    )


LINES = [
    line(1, "Architectural shingle roof", "9100.00", "RFG-1", True),
    line(2, "Seamless gutters", "1200.00", "GTR-1", False),
    line(3, "Skylight upgrade", "300.00", None, True),
]


async def publish_completed_job(bootstrap_servers: str, topic: str) -> None:
    """What jobs publishes for a sold, insured job whose roof is done (not its gutters) and
    which production completed."""
    events: list[EventData] = [
        LeadCreated(
            job_id=JOB,
            customer_name=CUSTOMER.name,
            phone=CUSTOMER.phone,
            email=CUSTOMER.email,
            property_address=CUSTOMER.property_address,
            salesman_id="sam",
        ),
        JobSold(
            job_id=JOB,
            job_number="2026-0101",
            sold_on=date(2026, 10, 1),
            sales_rep_id="sam",
            contract_price=Decimal("10600.00"),
            sale_price=Decimal("10600.00"),
            customer=CUSTOMER,
            trades=["roofing"],
            line_items=LINES,
        ),
        LineItemsChanged(job_id=JOB, change="completed", line_item_id="li-1", line_items=LINES),
        InsuranceRecorded(
            job_id=JOB,
            carrier="Acme Mutual",
            claim_number="AM-1001",
            deductible=Decimal("1000.00"),
            rcv=Decimal("10200.00"),
            acv=Decimal("8059.50"),
            recoverable_depreciation=Decimal("2140.50"),
        ),
        MilestoneChanged(job_id=JOB, from_milestone="invoiced", to_milestone="completed", by="ann"),
    ]
    settings = load_settings("jobs")
    async with raw_producer(bootstrap_servers) as producer:
        for sequence, event in enumerate(events, start=1):
            envelope = encode_event(
                event,
                source="jobs",
                subject=JOB,
                tenant_id=TENANT,
                sequence=sequence,
                max_bytes=settings.max_message_bytes,
            )
            await send_envelope(producer, topic, envelope)


def test_a_completed_jobs_money_from_complaint_to_final_payment(
    suite: dict[str, str], namespace: str, bootstrap_servers: str, lender: FakeLender
) -> None:
    billing = httpx.Client(base_url=suite["billing"], timeout=30)
    tickets = httpx.Client(base_url=suite["tickets"], timeout=30)

    def call(
        client: httpx.Client,
        method: str,
        path: str,
        who: dict[str, str],
        body: Any = None,
        status: int = 200,
    ) -> Any:
        response = client.request(method, path, headers=who, json=body)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def balance() -> Decimal:
        return Decimal(call(billing, "GET", f"/jobs/{JOB}/balance", BEA)["balance"])

    def timeline() -> list[str]:
        return [t["kind"] for t in call(billing, "GET", f"/jobs/{JOB}/billing-timeline", BEA)]

    asyncio.run(publish_completed_job(bootstrap_servers, f"{namespace}.jobs.events"))

    def folder() -> Any:
        response = billing.get(f"/finance-folders/{JOB}", headers=BEA)
        return response.json() if response.status_code == 200 else None

    wait_for(lambda: (f := folder()) and f["folder"]["completed"], "billing to keep the job")
    assert balance() == Decimal("10600.00")

    # A complaint opened in tickets holds the collection; production is told.
    complaint = wait_for(
        lambda: (
            (
                r := tickets.post(
                    "/tickets",
                    headers=SUE,
                    json={
                        "type": "callback",
                        "job_id": JOB,
                        "line_items": [{"description": "Leak check", "unit_price": "0.00"}],
                        "technician_ids": ["tom"],
                        "issue": {"kind": "complaint", "note": "Leak over the garage"},
                    },
                )
            ).status_code
            == 201
            and r.json()
        ),
        "tickets to know the job",
    )
    wait_for(lambda: "hold" in timeline(), "the hold")
    held = call(billing, "POST", f"/jobs/{JOB}/collection-attempts", BEA, status=409)
    assert "hold-open-complaint" in {rule["rule"] for rule in held["rules"]}

    # The repair completes: the hold is released, and the office may collect.
    ticket = complaint["ticket_id"]
    visit = {"start_date": "2026-12-02", "end_date": "2026-12-02"}
    call(tickets, "POST", f"/tickets/{ticket}/schedule", SUE, visit)
    call(tickets, "POST", f"/tickets/{ticket}/start", TOM)
    call(tickets, "POST", f"/tickets/{ticket}/complete", TOM)
    wait_for(lambda: "release" in timeline(), "the release")
    call(billing, "POST", f"/jobs/{JOB}/collection-attempts", BEA)

    # Refused; a concession by the production head; refused again: the billing manager's queue.
    assert call(billing, "POST", f"/jobs/{JOB}/refusals", BEA, {"note": "not paying"}) is None
    concession = {"amount": "100.00", "reason": "the leak took two weeks"}
    call(billing, "POST", f"/jobs/{JOB}/concessions", PAT, concession, status=201)
    escalation = call(billing, "POST", f"/jobs/{JOB}/refusals", BEA, {"note": "still no"})
    queue = call(billing, "GET", "/escalations", MAX)
    assert [e["escalation_id"] for e in queue] == [escalation["escalation_id"]]
    decided = call(
        billing,
        "POST",
        f"/escalations/{escalation['escalation_id']}/decision",
        MAX,
        {"decision": "payment_plan", "note": "insurance pays, the rest financed"},
    )
    assert decided["decision"] == "payment_plan" and call(billing, "GET", "/escalations", MAX) == []
    assert balance() == Decimal("10500.00")

    # The insurance summary; recoverable depreciation only for the completed roof.
    summary = {
        "carrier": "Acme Mutual",
        "claim_number": "AM-1001",
        "date_of_loss": "2026-09-01",
        "deductible": "1000.00",
        "lines": [
            {"code": "RFG-1", "description": "Tear off and replace shingles", "rcv": "9000.00",
             "depreciation": "1840.50"},
            {"code": "GTR-1", "description": "Seamless gutters", "rcv": "1200.00",
             "depreciation": "300.00"},
        ],
    }  # fmt: skip
    call(billing, "PUT", f"/jobs/{JOB}/insurance", BEA, summary)
    release = call(billing, "POST", f"/jobs/{JOB}/insurance/depreciation-release", BEA, status=201)
    assert [(ln["source"], ln["amount"]) for ln in release["lines"]] == [
        ("depreciation:RFG-1", "1840.50")
    ]
    call(billing, "POST", f"/invoices/{release['invoice_id']}/send", BEA)

    # The carrier's ACV check is posted, then returned unsigned by the mortgage company.
    acv = {"amount": "8059.50", "received_on": "2026-12-03", "method": "insurance_check"}
    posted = call(billing, "POST", f"/jobs/{JOB}/payments", BEA, acv, status=201)
    returned = call(
        billing,
        "POST",
        f"/jobs/{JOB}/returned-checks",
        BEA,
        {
            "reason": "mortgage_not_signed",
            "amount": "8059.50",
            "payer": "Acme Mutual",
            "payment_id": posted["record"]["record_id"],
        },
        status=201,
    )
    assert balance() == Decimal("10500.00")  # the posted check is reversed
    check = f"/returned-checks/{returned['returned_check_id']}"
    call(billing, "POST", f"{check}/mailed", BEA, {"tracking_number": "9400 1"}, status=409)
    call(billing, "POST", f"{check}/call", BEA, {"note": "told Dana the bank must sign"})
    mailed = call(billing, "POST", f"{check}/mailed", BEA, {"tracking_number": "9400 1"})
    assert mailed["follow_up_by"]
    call(billing, "POST", f"{check}/follow-up", BEA, {"delivered": True, "outcome": "bank signs"})
    assert call(billing, "GET", "/returned-checks", BEA) == []
    signed = {**acv, "received_on": "2026-12-10", "description": "ACV check, signed"}
    call(billing, "POST", f"/jobs/{JOB}/payments", BEA, signed, status=201)
    assert balance() == Decimal("2440.50")

    # The rest financed after the install: the link emailed, qualified, an offer, the funds.
    application = call(
        billing, "POST", f"/jobs/{JOB}/financing/applications", BEA, {"channel": "email"}, 201
    )
    assert Decimal(application["amount"]) == Decimal("2440.50")
    lender.complete(application["lender_ref"])
    refreshed = call(
        billing, "POST", f"/financing/applications/{application['application_id']}/refresh", BEA
    )
    assert refreshed["status"] == "qualified" and len(refreshed["offers"]) == 3
    offer = refreshed["offers"][0]["offer_id"]
    base = f"/financing/applications/{application['application_id']}"
    call(billing, "POST", f"{base}/offers/{offer}/choose", BEA)
    funds = {"amount": "2440.50", "received_on": "2026-12-15", "reference": "HEARTH-CHK-1"}
    call(billing, "POST", f"{base}/funded", BEA, funds, status=201)
    assert balance() == Decimal("0.00")

    # On billing's topic, keyed by the job: each step, and the final payment once.
    settings = load_settings(topic_prefix=namespace)

    def billing_events() -> list[str]:
        records = asyncio.run(read_topic(bootstrap_servers, settings.topic("billing")))
        return [
            decode(r)["type"]
            for r in sorted(records, key=lambda r: r.offset)
            if r.key == JOB.encode()
        ]

    types = wait_for(
        lambda: (t := billing_events()) and "billing.final_payment_received.v1" in t and t,
        "the final payment on the topic",
    )
    assert types.count("billing.final_payment_received.v1") == 1
    for kind in (
        "collection_held",
        "collection_released",
        "concession_granted",
        "payment_refused",
        "file_escalated",
        "escalation_decided",
        "depreciation_released",
        "check_returned",
        "financing_application_sent",
    ):
        assert f"billing.{kind}.v1" in types, kind
    assert types.index("billing.collection_held.v1") < types.index("billing.file_escalated.v1")
    installer = as_user("ivan", "installer")
    assert billing.get(f"/jobs/{JOB}/balance", headers=installer).status_code == 403
