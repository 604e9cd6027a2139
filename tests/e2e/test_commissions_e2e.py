"""Commissions as its users meet them, the five services running as processes with the shipped
plan files: a job sold by two salesmen (jobs' events on the topic, as jobs publishes them), its
advance drawn on approval; paid in billing, so released in commissions with its explanation;
the payment reversed in billing, so clawed back; paid again, so credited again; a monthly
statement; and a candidate plan's recompute beside the books.

A change order after release is the integration test's (tests/integration/services/
test_commissions_activity.py): here billing would reopen the balance for it at the same time,
and which of the two commissions hears first is the broker's to say."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from shared.contracts.base import EventData
from shared.contracts.jobs import (
    ContractSigned,
    CustomerContact,
    JobSold,
    LeadCreated,
    MilestoneChanged,
)
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import raw_producer, send_envelope
from tests.support.suite import bearer, wait_for

TENANT = "acme-roofing"  # commission_plans/acme-roofing/
JOB = "job-c1"
CUSTOMER = CustomerContact(name="Dana Reyes", email="dana@home.example", property_address="12 Elm")
BEA = bearer("bea", "billing", tenant=TENANT)
MAX = bearer("max", "billing_manager", tenant=TENANT)
SAM = bearer("sam", "sales", tenant=TENANT)
CANDIDATE = """
id: standard
version: 3
owners: [sales-director@acme-roofing.example]
description: A flat 7% of the contract, tried on the past first.
tenant: acme-roofing
effective_from: 2027-01-01
assigned_to: {everyone_else: true}
computation:
  percent_of_contract: {rate: 7}
examples:
  - name: seven percent
    job: {contract_price: 10000}
    month_volume: 0
    expect: {amount: 700.00}
"""


async def publish(bootstrap_servers: str, topic: str, events: list[EventData]) -> None:
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


def test_a_job_of_two_salesmen_paid_reversed_paid_again_and_a_plan_tried(
    suite: dict[str, str], namespace: str, bootstrap_servers: str
) -> None:
    commissions = httpx.Client(base_url=suite["commissions"], timeout=30)
    billing = httpx.Client(base_url=suite["billing"], timeout=30)

    def call(client: httpx.Client, method: str, path: str, who: Any, body: Any = None) -> Any:
        response = client.request(method, path, headers=who, json=body)
        assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"
        return response.json()

    lead = LeadCreated(
        job_id=JOB,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        property_address=CUSTOMER.property_address,
        salesman_id="sam",
    )
    asyncio.run(publish(bootstrap_servers, f"{namespace}.jobs.events", [lead]))
    shares = {
        "shares": [{"salesman_id": "sam", "percent": 50}, {"salesman_id": "ria", "percent": 50}]
    }
    wait_for(
        lambda: commissions.put(f"/jobs/{JOB}/shares", headers=MAX, json=shares).status_code == 200,
        "commissions to know the job",
    )
    sold = JobSold(
        job_id=JOB,
        job_number="2026-0301",
        sold_on=date(2026, 11, 3),
        sales_rep_id="sam",
        contract_price=Decimal("12000.00"),
        sale_price=Decimal("12000.00"),
        customer=CUSTOMER,
        trades=["roofing"],
        line_items=[],
    )
    signed = ContractSigned(
        job_id=JOB, signed_on=date(2026, 11, 3), contract_price=Decimal(12000), by="sam"
    )
    done = MilestoneChanged(job_id=JOB, from_milestone="approved", to_milestone="completed", by="a")
    asyncio.run(publish(bootstrap_servers, f"{namespace}.jobs.events", [sold, signed, done]))

    def mine() -> list[tuple[str, str]]:
        records = call(commissions, "GET", f"/jobs/{JOB}/activity", SAM)
        return [(r["kind"], r["amount"]) for r in records]

    wait_for(lambda: mine() == [("adjustment", "150.00")], "the advance drawn on approval")
    wait_for(
        lambda: call(billing, "GET", f"/finance-folders/{JOB}", BEA)["folder"]["completed"],
        "billing to know the job completed",
    )
    payment = call(
        billing,
        "POST",
        f"/jobs/{JOB}/payments",
        BEA,
        {"amount": "12000.00", "received_on": "2026-12-01", "method": "check"},
    )
    # 6% of 12,000.00 = 720.00 (standard v2), half each, less the 150.00 advanced.
    wait_for(lambda: mine()[1:] == [("released", "210.00")], "the release")
    released = call(commissions, "GET", f"/jobs/{JOB}/activity", SAM)[1]
    explained = call(commissions, "GET", f"/activity/{released['record_id']}/explain", SAM)
    lines = explained["evaluation"]["lines"]
    assert any("6% of 12,000.00" in line for line in lines), lines
    assert explained["evaluation"]["plan_id"] == "standard"

    # The check bounces: billing reverses it, the whole contract is owed again, all clawed back.
    reversal = {"reversed_on": "2026-12-10", "reason": "returned check: not signed"}
    payment_id = payment["record"]["record_id"]
    call(billing, "POST", f"/jobs/{JOB}/payments/{payment_id}/reversal", BEA, reversal)
    wait_for(lambda: mine()[2:] == [("adjustment", "-360.00")], "the claw-back")
    call(
        billing,
        "POST",
        f"/jobs/{JOB}/payments",
        BEA,
        {"amount": "12000.00", "received_on": "2026-12-15", "method": "ach"},
    )
    wait_for(lambda: mine()[3:] == [("adjustment", "360.00")], "credited again")

    statement = commissions.get(
        "/salesmen/sam/statement",
        headers=SAM,
        params={"start": "2026-12-01", "end": "2027-01-01", "format": "csv"},
    )
    assert statement.text.splitlines()[-1].endswith("total,210.00")  # 210 - 360 + 360
    assert (
        commissions.get(
            "/salesmen/ria/statement",
            headers=SAM,
            params={"start": "2026-12-01", "end": "2027-01-01"},
        ).status_code
        == 404
    )

    tried = call(
        commissions,
        "POST",
        "/recompute",
        MAX,
        {"plan": CANDIDATE, "start": "2026-12-01", "end": "2027-01-01"},
    )
    assert {(j["salesman_id"], j["current"], j["candidate"]) for j in tried["jobs"]} == {
        ("sam", "360.00", "420.00"),  # 7% of 12,000.00, half
        ("ria", "360.00", "420.00"),
    }
    assert len(call(commissions, "GET", f"/jobs/{JOB}/activity", MAX)) == 8  # nothing written
