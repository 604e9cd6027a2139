"""Insurance on a job on the real PostgreSQL, through the billing service's HTTP API with its
policy layer (seed 000, seed 002): the claim's summary line by line, recoverable depreciation
invoiced to the carrier for completed line items only, the carrier's deadline watched (warned
before, escalated after, each told once), supplements, the detailed invoice against the summary
with every difference shown, and a credit note correcting a sent invoice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from services.billing.handlers import insurance
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.jobs import InsuranceRecorded, LineItemData, LineItemsChanged
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import Service
from tests.integration.services.test_billing_money import (
    a_signed_job,
    apply,
    as_user,
    jobs_event,
    published,
)

SUMMARY = {
    "carrier": "Acme Mutual",
    "claim_number": "AM-1001",
    "date_of_loss": "2026-09-01",
    "deductible": "1000.00",
    "lines": [
        {"code": "RFG-1", "description": "Tear off and replace shingles", "quantity": "30",
         "rcv": "9000.00", "depreciation": "1840.50"},
        {"code": "GTR-1", "description": "Seamless gutters", "quantity": "120",
         "rcv": "1200.00", "depreciation": "300.00"},
    ],
}  # fmt: skip


def item(n: int, description: str, total: str, ref: str | None, completed: bool) -> LineItemData:
    return LineItemData(
        line_item_id=f"li-{n}",
        description=description,
        quantity=Decimal("1"),
        unit_price=Decimal(total),
        total=Decimal(total),
        insurance_line_ref=ref,
        completed=completed,
    )


async def an_insured_job(deps: BillingDeps, *, gutters_done: bool = False) -> None:
    """Roof done, gutters not yet (unless ``gutters_done``), a skylight the summary does not
    cover; jobs reported the summary's RCV as 10,250.00 (50.00 more than its lines)."""
    await a_signed_job(deps, "job-1", "10600.00")
    lines = LineItemsChanged(
        job_id="job-1",
        change="completed",
        line_item_id="li-1",
        line_items=[
            item(1, "Architectural shingle roof", "9100.00", "RFG-1", True),
            item(2, "Seamless gutters", "1200.00", "GTR-1", gutters_done),
            item(3, "Skylight upgrade", "300.00", None, True),
        ],
    )
    await apply(deps, jobs_event, lines, "job-1")
    figures = InsuranceRecorded(
        job_id="job-1",
        carrier="Acme Mutual",
        claim_number="AM-1001",
        deductible=Decimal("1000.00"),
        rcv=Decimal("10250.00"),
        acv=None,
        recoverable_depreciation=None,
    )

    async def record(uow: BillingUnitOfWork, envelope: Envelope, event: Any) -> None:
        await insurance.on_insurance_recorded(deps.policy, uow, envelope, event)

    await apply(deps, record, figures, "job-1")


async def decisions(billing_service: Service[BillingDeps], point: str) -> list[str]:
    """The outcomes logged at ``point``, oldest first."""
    table = billing_service.platform.policy.tables.decisions  # type: ignore[union-attr]
    async with billing_service.platform.uow_factory() as transaction:
        rows = await transaction.connection.execute(
            sa.select(table.c.outcome)
            .where(table.c.decision_point == point)
            .order_by(table.c.decided_at)
        )
        return list(rows.scalars())


async def test_depreciation_is_released_for_completed_lines_only_and_its_deadline_watched(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    deps = billing_service.deps
    bea = as_user(billing_service, "bea", "billing")
    await an_insured_job(deps)
    recorded = await billing_client.put("/jobs/job-1/insurance", headers=bea, json=SUMMARY)
    assert recorded.status_code == 200, recorded.text
    claim = recorded.json()
    assert (claim["rcv"], claim["depreciation"], claim["acv"]) == ("10200.00", "2140.50", "8059.50")
    # Acme Mutual's row of the policy's table: 365 days from the date of loss.
    assert claim["depreciation_deadline"]["due"] == "2027-09-01"
    assert claim["reported"]["rcv"] == "10250.00"  # from jobs' event, kept beside the lines

    released = await billing_client.post("/jobs/job-1/insurance/depreciation-release", headers=bea)
    assert released.status_code == 201, released.text
    invoice = released.json()
    assert invoice["kind"] == "insurer" and invoice["bill_to"] == "Acme Mutual (claim AM-1001)"
    assert [(ln["source"], ln["amount"]) for ln in invoice["lines"]] == [
        ("depreciation:RFG-1", "1840.50")
    ]  # the gutters are not installed: their depreciation waits
    assert invoice["total"] == invoice["due"] == "1840.50"
    event = await published(billing_service, "billing.depreciation_released.v1")
    assert len(event) == 1
    claim = (await billing_client.get("/jobs/job-1/insurance", headers=bea)).json()
    assert (claim["released"], claim["outstanding"]) == ("1840.50", "300.00")

    again = await billing_client.post("/jobs/job-1/insurance/depreciation-release", headers=bea)
    assert again.status_code == 409
    assert "'Seamless gutters' is not completed" in again.json()["detail"]
    changed = {**SUMMARY, "lines": [{**SUMMARY["lines"][0], "depreciation": "1800.00"}]}  # type: ignore[index]
    locked = await billing_client.put("/jobs/job-1/insurance", headers=bea, json=changed)
    assert locked.status_code == 409 and "RFG-1" in locked.json()["detail"]

    # The deadline: quiet until the warning window, warned once, escalated once it passed.
    due = date(2027, 9, 1)
    for today, expected in (
        (due - timedelta(days=60), "allow"),
        (due - timedelta(days=20), "notify"),
        (due - timedelta(days=19), "notify"),
        (due + timedelta(days=1), "escalate"),
        (due + timedelta(days=2), "escalate"),
    ):
        assert await insurance.watch_deadline(deps, "acme", "job-1", today) == expected
    assert await decisions(billing_service, insurance.WATCH) == ["notify", "escalate"]
    assert await deps.claims_to_watch() == [("acme", "job-1")]


async def test_the_detailed_invoice_maps_every_line_to_the_summary_and_shows_each_difference(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    bea = as_user(billing_service, "bea", "billing")
    await an_insured_job(billing_service.deps, gutters_done=True)
    await billing_client.put("/jobs/job-1/insurance", headers=bea, json=SUMMARY)
    created = await billing_client.post(
        "/jobs/job-1/invoices", headers=bea, json={"kind": "detailed"}
    )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert [(ln["description"], ln["amount"]) for ln in invoice["lines"]] == [
        ("RFG-1 Tear off and replace shingles", "9000.00"),
        ("GTR-1 Seamless gutters", "1200.00"),
        ("Not on the insurance summary: Skylight upgrade", "300.00"),
    ]
    assert invoice["total"] == "10500.00"
    detail = invoice["detail"]
    assert [(r["code"], r["acv"], r["installed"], r["difference"]) for r in detail["rows"]] == [
        ("RFG-1", "7159.50", True, "100.00"),  # the job bills 9,100.00 for the 9,000.00 line
        ("GTR-1", "900.00", True, "0.00"),
    ]
    assert (detail["rcv"], detail["depreciation"], detail["acv"]) == (
        "10200.00",
        "2140.50",
        "8059.50",
    )
    assert {(d["what"], d["difference"]) for d in detail["differences"]} == {
        ("summary RCV as reported", "-50.00"),
        ("the job's line items against the summary lines they do", "100.00"),
    }
    page = await billing_client.get(f"/invoices/{invoice['invoice_id']}/page", headers=bea)
    assert "Seamless gutters" in page.text and "-50.00" in page.text

    sent = await billing_client.post(f"/invoices/{invoice['invoice_id']}/send", headers=bea)
    assert sent.status_code == 200
    url = f"/invoices/{invoice['invoice_id']}/credit-notes"
    credit = {"reason": "gutters billed 200 over the estimate", "lines": []}
    credit["lines"] = [{"source": "summary:GTR-1", "amount": "200.00"}]
    note = await billing_client.post(url, headers=bea, json=credit)
    assert note.status_code == 201, note.text
    assert note.json()["number"].startswith("CN-") and note.json()["total"] == "-200.00"
    assert note.json()["credits"] == invoice["number"]
    over = {"reason": "again", "lines": [{"source": "summary:GTR-1", "amount": "1000.01"}]}
    refused = await billing_client.post(url, headers=bea, json=over)
    assert refused.status_code == 409 and "1000.00 left to credit" in refused.json()["detail"]
    assert len(await published(billing_service, "billing.credit_note_issued.v1")) == 1


async def test_supplements_are_requested_then_approved_into_the_balance_or_denied(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    bea = as_user(billing_service, "bea", "billing")
    await an_insured_job(billing_service.deps)
    await billing_client.put("/jobs/job-1/insurance", headers=bea, json=SUMMARY)
    url = "/jobs/job-1/insurance/supplements"
    asked = {"description": "Drip edge", "amount": "450.00", "justification": "code upgrade"}
    drip = (await billing_client.post(url, headers=bea, json=asked)).json()
    vents = (
        await billing_client.post(
            url,
            headers=bea,
            json={"description": "Ridge vent", "amount": "300.00", "justification": "missed"},
        )
    ).json()
    approved = await billing_client.post(
        f"{url}/{drip['supplement_id']}/decision",
        headers=bea,
        json={"approved": True, "amount": "400.00", "note": "adjuster allowed 400"},
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    denied = await billing_client.post(
        f"{url}/{vents['supplement_id']}/decision", headers=bea, json={"approved": False}
    )
    assert denied.json()["status"] == "denied"
    twice = await billing_client.post(
        f"{url}/{vents['supplement_id']}/decision", headers=bea, json={"approved": True}
    )
    assert twice.status_code == 409
    balance = (await billing_client.get("/jobs/job-1/balance", headers=bea)).json()
    assert Decimal(balance["balance"]) == Decimal("11000.00")  # 10,600.00 + the 400.00 approved
    claim = (await billing_client.get("/jobs/job-1/insurance", headers=bea)).json()
    assert [s["status"] for s in claim["supplements"]] == ["approved", "denied"]
    installer = as_user(billing_service, "ivan", "installer")
    hidden = await billing_client.get("/jobs/job-1/insurance", headers=installer)
    assert hidden.status_code == 403
