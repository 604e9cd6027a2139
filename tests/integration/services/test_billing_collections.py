"""Collections under policy on the real PostgreSQL, through the billing service's HTTP API with
its policy layer loaded: a complaint holds collection (no proof asked), the repair's completion
releases it, a refusal before a concession is kept, the production head's concession, a refusal
after it escalates to the corporate billing manager, whose decision closes the file; every step a
line in the timeline and an event."""

from __future__ import annotations

from decimal import Decimal

import httpx

from services.billing.handlers import collections
from services.billing.handlers.gauges import refresh_gauges
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.messaging import SurveyAnswered
from shared.contracts.tickets import IssueOpened, IssueResolved, TicketCustomer
from shared.platform.messaging.envelope import Envelope
from shared.platform.service import Service
from tests.integration.services.test_billing_money import (
    a_signed_job,
    apply,
    as_user,
    published,
)

DANA = TicketCustomer(name="Dana Reyes", property_address="12 Elm St")


def standing(deps: BillingDeps):  # type: ignore[no-untyped-def]
    """Tickets' or messaging's event as billing's consumer hands it over: a run of one."""

    async def one(uow: BillingUnitOfWork, envelope: Envelope, event: object) -> None:
        await collections.project_standing(deps.policy, uow, [(envelope, event)])

    return one


async def test_a_complaint_holds_collection_until_repaired_then_a_refusal_is_escalated(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    deps = billing_service.deps
    bea, pat = (
        as_user(billing_service, "bea", "billing"),
        as_user(billing_service, "pat", "production_manager"),
    )
    manager = as_user(billing_service, "carla", "billing_manager")
    await a_signed_job(deps, "job-1", "9000.00")
    complaint = IssueOpened(
        ticket_id="t-1", kind="complaint", job_id="job-1", customer=DANA, note="leak over the porch"
    )
    await apply(deps, standing(deps), complaint, "job-1")

    held = await billing_client.post("/jobs/job-1/collection-attempts", headers=bea)
    assert held.status_code == 409
    assert [r["rule"] for r in held.json()["rules"]] == ["hold-open-complaint"]
    assert len(await published(billing_service, "billing.collection_held.v1")) == 1

    # The repair is done: the hold is released; collection may go ahead.
    resolved = IssueResolved(
        ticket_id="t-1", kind="complaint", job_id="job-1", resolution="complete"
    )
    await apply(deps, standing(deps), resolved, "job-1")
    assert len(await published(billing_service, "billing.collection_released.v1")) == 1
    attempt = await billing_client.post("/jobs/job-1/collection-attempts", headers=bea)
    assert attempt.status_code == 200 and Decimal(attempt.json()["balance"]) == Decimal("9000.00")

    # A refusal before any concession is kept, not escalated.
    first = await billing_client.post(
        "/jobs/job-1/refusals", headers=bea, json={"note": "not paying"}
    )
    assert first.status_code == 200 and first.json() is None
    # Only the production head grants a concession; billing hears of it.
    refused = await billing_client.post(
        "/jobs/job-1/concessions", headers=bea, json={"amount": "250.00", "reason": "late repair"}
    )
    assert refused.status_code == 409
    assert refused.json()["rules"][0]["rule"] == "production-head-grants"
    too_much = await billing_client.post(
        "/jobs/job-1/concessions", headers=pat, json={"amount": "9000.01", "reason": "all of it"}
    )
    assert too_much.status_code == 409
    granted = await billing_client.post(
        "/jobs/job-1/concessions", headers=pat, json={"amount": "250.00", "reason": "late repair"}
    )
    assert granted.status_code == 201, granted.text
    balance = (await billing_client.get("/jobs/job-1/balance", headers=bea)).json()
    assert Decimal(balance["balance"]) == Decimal("8750.00")

    # Refused again after repairs and a concession: the corporate billing manager's queue.
    again = await billing_client.post(
        "/jobs/job-1/refusals", headers=bea, json={"note": "still no"}
    )
    escalation = again.json()
    assert escalation["job_id"] == "job-1" and escalation["decision"] is None
    queue = (await billing_client.get("/escalations", headers=manager)).json()
    assert [e["escalation_id"] for e in queue] == [escalation["escalation_id"]]
    assert (await billing_client.get("/escalations", headers=bea)).status_code == 403
    file = (
        await billing_client.get(f"/escalations/{escalation['escalation_id']}", headers=manager)
    ).json()
    assert [line["kind"] for line in file["timeline"]] == [
        "hold",
        "release",
        "collection_attempt",
        "refusal",
        "concession",
        "escalation",
        "refusal",
    ]
    decided = await billing_client.post(
        f"/escalations/{escalation['escalation_id']}/decision",
        headers=manager,
        json={"decision": "write_off", "note": "not worth pursuing"},
    )
    assert decided.json()["decision"] == "write_off"
    assert (await billing_client.get("/escalations", headers=manager)).json() == []
    after = (await billing_client.get("/jobs/job-1/balance", headers=bea)).json()
    assert Decimal(after["balance"]) == Decimal("0.00")
    assert Decimal(after["write_offs"]) == Decimal("8750.00")
    twice = await billing_client.post(
        f"/escalations/{escalation['escalation_id']}/decision",
        headers=manager,
        json={"decision": "legal", "note": "x"},
    )
    assert twice.status_code == 404
    for event in ("concession_granted", "payment_refused", "file_escalated", "escalation_decided"):
        assert await published(billing_service, f"billing.{event}.v1"), event


async def test_a_low_survey_rating_holds_collection_while_repairs_are_open(
    billing_service: Service[BillingDeps], billing_client: httpx.AsyncClient
) -> None:
    deps = billing_service.deps
    bea = as_user(billing_service, "bea", "billing")
    await a_signed_job(deps, "job-2")
    repair = IssueOpened(
        ticket_id="t-2", kind="field_issue", job_id="job-2", customer=DANA, note="loose flashing"
    )
    await apply(deps, standing(deps), repair, "job-2")
    rating = SurveyAnswered(
        survey_id="s-2",
        subject="job",
        job_id="job-2",
        rating=2,
        form_version=0,
        answered_at=billing_service.deps.clock(),
    )
    await apply(deps, standing(deps), rating, "job-2")
    held = await billing_client.post("/jobs/job-2/collection-attempts", headers=bea)
    assert {r["rule"] for r in held.json()["rules"]} == {
        "hold-open-repairs",
        "hold-unhappy-customer",
    }
    timeline = (await billing_client.get("/jobs/job-2/billing-timeline", headers=bea)).json()
    # The hold needs no proof: nothing was asked of the customer, the line says why.
    (hold,) = timeline
    assert hold["kind"] == "hold" and "Repairs are still open" in hold["text"]

    # What ops sees: the hold and what the held job owes, payments by method (gauges refreshed
    # from the database, as the service does every 15 s).
    paid = await billing_client.post(
        "/jobs/job-2/payments",
        headers=bea,
        json={"amount": "2000.00", "received_on": "2026-12-01", "method": "check"},
    )
    assert paid.status_code == 201
    await refresh_gauges(deps)
    scraped = (await billing_client.get("/metrics")).text
    for line in (
        "roofline_billing_collection_holds 1.0",
        "roofline_billing_collection_held_balance_dollars 10000.0",
        'roofline_billing_payments{method="check"} 1.0',
        'roofline_billing_payments_dollars{method="check"} 2000.0',
        "roofline_billing_escalations_open 0.0",
    ):
        assert line in scraped.splitlines(), line
