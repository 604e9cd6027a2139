"""Commissions on the real PostgreSQL with the shipped plan files, through its HTTP API: a job
sold by two salesmen, its advance drawn on approval, released when billing reports the final
payment (each amount explained: plan version, hash, figures), a change order after release as an
adjustment, a reversal clawing half back, a month's statement as CSV, and a payout requested,
approved and paid. Jobs' and billing's events are applied by commissions' own handler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.commissions import app as commissions_app
from services.commissions.handlers import activity
from services.commissions.handlers.gauges import refresh_gauges
from services.commissions.ports import CommissionsDeps
from shared.contracts.billing import FinalPaymentReceived, FinalPaymentReversed
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    CustomerContact,
    JobSold,
    LeadCreated,
)
from shared.platform.http.auth import mint_token
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.service import Service
from tests.support.harness import create_topics, running, settings_for

TENANT = "acme-roofing"  # the shipped plan files' tenant (commission_plans/acme-roofing/)


@pytest.fixture
async def service(
    namespace: str, database_url: str, bootstrap_servers: str
) -> AsyncIterator[Service[CommissionsDeps]]:
    settings = settings_for(
        "commissions", f"{namespace}c{uuid.uuid4().hex[:6]}", database_url, bootstrap_servers
    )
    await create_topics(settings, "commissions", "jobs", "billing")
    built = commissions_app.build(settings)
    async with running(built.platform, consume=False):  # the handlers are applied directly
        yield built


def who(service: Service[CommissionsDeps], user: str, role: str, tenant: str = TENANT) -> Any:
    token = mint_token(service.platform.settings, user=user, tenant=tenant, roles=[role])
    return {"Authorization": f"Bearer {token}"}


async def deliver(deps: CommissionsDeps, event: Any) -> None:
    sent = encode_event(event, source="x", subject="job-1", tenant_id=TENANT, max_bytes=10**6)
    async with deps.unit_of_work(TENANT) as uow:
        await activity.on_event(deps, uow, Envelope.from_bytes(sent.body, 10**6), event)
        await uow.commit()


async def test_a_job_of_two_salesmen_from_approval_to_payout(
    service: Service[CommissionsDeps],
) -> None:
    deps = service.deps
    max_, sam, ria = (
        who(service, "max", "billing_manager"),
        who(service, "sam", "sales"),
        who(service, "ria", "sales"),
    )
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as http:
        lead = LeadCreated(
            job_id="job-1", customer_name="Dana", property_address="12 Elm", salesman_id="sam"
        )
        await deliver(deps, lead)
        shares = {
            "shares": [
                {"salesman_id": "sam", "percent": "50"},
                {"salesman_id": "ria", "percent": "50"},
            ]
        }
        assert (await http.put("/jobs/job-1/shares", headers=sam, json=shares)).status_code == 403
        assert (await http.put("/jobs/job-1/shares", headers=max_, json=shares)).status_code == 200
        sold = JobSold(
            job_id="job-1",
            job_number="2026-0101",
            sold_on=date(2026, 11, 3),
            sales_rep_id="sam",
            contract_price=Decimal("12000.00"),
            sale_price=None,
            customer=CustomerContact(name="Dana", property_address="12 Elm"),
            trades=["roofing"],
            line_items=[],
        )
        await deliver(deps, sold)  # the standard plan's 300.00 draw, 150.00 each
        signed = ContractSigned(
            job_id="job-1", signed_on=date(2026, 11, 3), contract_price=Decimal(12000), by="sam"
        )
        await deliver(deps, signed)
        paid = FinalPaymentReceived(
            job_id="job-1", amount=Decimal(12000), received_on=date(2026, 12, 1)
        )
        await deliver(deps, paid)
        mine = (await http.get("/jobs/job-1/activity", headers=sam)).json()
        assert [(r["kind"], r["amount"]) for r in mine] == [
            ("adjustment", "150.00"),  # the advance
            ("released", "210.00"),  # 6% of 12,000.00 = 720.00, half 360.00, less 150.00
        ]
        released = mine[1]
        explained = await http.get(f"/activity/{released['record_id']}/explain", headers=sam)
        evaluation = explained.json()["evaluation"]
        assert (evaluation["plan_id"], evaluation["plan_version"]) == ("standard", "2")
        assert len(evaluation["plan_hash"]) == 16 and evaluation["figures"]["rate"] == "6"
        assert any("6% of 12,000.00" in line for line in evaluation["lines"]), evaluation
        assert (
            await http.get(f"/activity/{released['record_id']}/explain", headers=ria)
        ).status_code == 404  # sam's, not hers

        change = ChangeOrderAdded(
            job_id="job-1",
            change_order_id="co-1",
            signed_on=date(2026, 12, 5),
            amount=Decimal("750.00"),
            note="snow guards",
            by="sam",
            contract_price=Decimal("12750.00"),
            adjustment=True,
        )
        await deliver(deps, change)
        reversed_ = FinalPaymentReversed(
            job_id="job-1",
            balance=Decimal("6375.00"),
            reason="returned check",
            reversed_on=date(2026, 12, 10),
        )
        await deliver(deps, reversed_)
        every = (await http.get("/jobs/job-1/activity", headers=max_)).json()
        sams = [(r["kind"], r["amount"]) for r in every if r["salesman_id"] == "sam"]
        assert sams == [
            ("adjustment", "150.00"),
            ("released", "210.00"),
            ("adjustment", "22.50"),  # 6% of 12,750.00 = 765.00, half 382.50
            ("adjustment", "-191.25"),  # half the contract owed again: half of it back
        ]

        csv = await http.get(
            "/salesmen/sam/statement",
            headers=sam,
            params={"start": "2026-11-01", "end": "2027-01-01", "format": "csv"},
        )
        assert csv.headers["content-type"].startswith("text/csv")
        # 150.00 (the advance, in November) + 210.00 + 22.50 - 191.25
        assert csv.text.splitlines()[-1].endswith("total,191.25")
        payout = await http.post(
            "/payouts",
            headers=sam,
            json={"salesman_id": "sam", "start": "2026-11-01", "end": "2027-01-01"},
        )
        assert payout.status_code == 201 and payout.json()["amount"] == "191.25"
        payout_id = payout.json()["payout_id"]
        assert (await http.post(f"/payouts/{payout_id}/approve", headers=sam)).status_code == 403
        await http.post(f"/payouts/{payout_id}/approve", headers=max_)
        done = await http.post(f"/payouts/{payout_id}/paid", headers=max_)
        assert done.json()["status"] == "paid"
        again = await http.post(f"/payouts/{payout_id}/paid", headers=max_)
        assert again.status_code == 409 and "never changes" in again.json()["detail"]
        year = (await http.get("/salesmen/sam/summary", headers=sam, params={"year": 2026})).json()
        assert year["year_totals"]["paid"] == "191.25"
        assert year["months"][10]["advances_outstanding"] == "0.00"  # recovered on release
        other = who(service, "max", "billing_manager", tenant="other")
        assert (await http.get("/jobs/job-1/activity", headers=other)).status_code == 404

        # What ops sees (the gauges as the service refreshes them every 15 s).
        await refresh_gauges(deps)
        scraped = (await http.get("/metrics")).text.splitlines()
        for line in (
            'roofline_commissions_amount_dollars{kind="released",month="2026-12"} 420.0',
            'roofline_commissions_amount_dollars{kind="adjustment",month="2026-11"} 300.0',
            "roofline_commissions_payouts_pending_approval 0.0",
            "roofline_commissions_advances_outstanding_dollars 0.0",
        ):
            assert line in scraped, line


CANDIDATE = """
id: standard
version: 3
owners: [sales-director@acme-roofing.example]
description: A flat 7% of the contract, tried before it is adopted.
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


async def test_a_candidate_plan_is_tried_on_the_past_without_touching_the_books(
    service: Service[CommissionsDeps],
) -> None:
    deps = service.deps
    max_ = who(service, "max", "billing_manager")
    await deliver(
        deps,
        LeadCreated(job_id="job-1", customer_name="Dana", property_address="12", salesman_id="sam"),
    )
    signed = ContractSigned(
        job_id="job-1", signed_on=date(2026, 11, 3), contract_price=Decimal(12750), by="sam"
    )
    await deliver(deps, signed)
    paid = FinalPaymentReceived(
        job_id="job-1", amount=Decimal(12750), received_on=date(2026, 12, 1)
    )
    await deliver(deps, paid)
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as http:
        before = (await http.get("/jobs/job-1/activity", headers=max_)).json()
        period = {"start": "2026-12-01", "end": "2027-01-01"}
        tried = await http.post("/recompute", headers=max_, json={"plan": CANDIDATE, **period})
        assert tried.status_code == 200, tried.text
        found = tried.json()
        (job,) = found["jobs"]
        # Under standard v2: 6% of 12,750.00 = 765.00; under the candidate 7%: 892.50.
        assert (job["salesman_id"], job["current"], job["candidate"], job["difference"]) == (
            "sam",
            "765.00",
            "892.50",
            "127.50",
        )
        assert job["current_plan"].startswith("standard@2#")
        assert any("7% of 12,750.00" in line for line in job["why"])
        assert found["plan"].startswith("standard@3#") and found["difference"] == "127.50"
        assert (await http.get("/jobs/job-1/activity", headers=max_)).json() == before
        broken = CANDIDATE.replace("rate: 7}", "rate: seven}")
        refused = await http.post("/recompute", headers=max_, json={"plan": broken, **period})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "plan line 10"
        sam = who(service, "sam", "sales")
        assert (
            await http.post("/recompute", headers=sam, json={"plan": CANDIDATE, **period})
        ).status_code == 403
