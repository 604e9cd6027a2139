"""A metal job from lead to closed through HTTP, the five services running as processes: a Sales
user's approval request, an incomplete hand-off refused (then completed and accepted, the metal
colour confirmation included), a crew assigned by the trade manager, a change order, billing's
invoice moving it to Invoiced, the job's expenses entered and paid and its payment in billing
releasing and closing it, and the job's events on the topic in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.platform.settings import load_settings
from tests.support.harness import decode, read_topic
from tests.support.smtp import SmtpServer
from tests.support.suite import bearer, wait_for

TENANT = "metalworks"


def as_user(user: str, *roles: str, tenant: str = TENANT) -> dict[str, str]:
    return bearer(user, *roles, tenant=tenant)


SAM = as_user("sam", "sales")
ANN = as_user("ann", "csa")
PAT = as_user("pat", "production_manager")
TINA = as_user("tina", "trade_manager")
PETE = as_user("pete", "project_manager")
IVAN = as_user("ivan", "installer")


@pytest.fixture(scope="module", autouse=True)
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server the suite's messaging service sends to (set before it starts)."""
    server = SmtpServer().start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOFLINE_SMTP_PORT", str(server.port))
        env.setenv("ROOFLINE_EMAIL_SEND_INTERVAL_S", "0.2")
        yield server
    server.stop()


def test_a_metal_job_from_lead_to_closed(
    suite: dict[str, str], namespace: str, bootstrap_servers: str, smtp: SmtpServer
) -> None:
    jobs = httpx.Client(base_url=suite["jobs"], timeout=30)
    # Who the metal trade manager is, in messaging's directory: the hand-off reaches her.
    tina = {
        "user_id": "tina",
        "name": "Tina",
        "email": "tina@metal.example",
        "roles": ["trade_manager"],
    }
    directory = httpx.put(f"{suite['messaging']}/people/tina", headers=PAT, json=tina, timeout=30)
    assert directory.status_code == 200, directory.text

    def post(
        path: str, who: dict[str, str], body: dict[str, Any] | None = None, status: int = 200
    ) -> Any:
        response = jobs.post(path, headers=who, json=body or {})
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    # A Sales user takes the lead: it is theirs, so it is in the pipeline.
    job = post(
        "/jobs",
        SAM,
        {
            "customer": {"name": "Rita Moreno", "phone": "555-0142", "email": "rita@example.com"},
            "address": {
                "line": "8 Quarry Rd",
                "city": "Austin",
                "state": "TX",
                "latitude": 30.31,
                "longitude": -97.74,
            },
            "trades": ["metal"],
            "lead_source": "referral",
        },
        status=201,
    )
    job_id, url = job["job_id"], f"/jobs/{job['job_id']}"
    assert job["in_pipeline"] and job["milestone"] == "lead"
    post(f"{url}/milestone", SAM, {"to": "prospect"})
    # Submitting a sale with no line item is refused at once, naming what is missing.
    refused = jobs.post(f"{url}/approval-requests", headers=SAM, json={"to": "approved"})
    assert refused.status_code == 409 and refused.json()["missing"] == ["line item"]
    post(
        f"{url}/line-items",
        SAM,
        {
            "description": "Standing seam roof",
            "quantity": "28",
            "unit_price": "425.00",
            "trade": "metal",
        },
        status=201,
    )
    post(f"{url}/line-items", SAM, {"description": "Haul-away", "unit_price": "0.00"}, status=201)
    post(f"{url}/contract", SAM, {"signed_on": "2026-11-20", "contract_price": "12500.00"})

    # Sales cannot approve their own sale: they submit it, the CSA approves.
    refused = jobs.post(f"{url}/milestone", headers=SAM, json={"to": "approved"})
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:roofline:problem:policy-denied"
    assert refused.json()["missing"] == ["approval by a CSA, production manager or admin"]
    job = post(f"{url}/approval-requests", SAM, {"to": "approved", "note": "signed"}, status=201)
    request_id = job["approval_requests"][0]["request_id"]
    job = post(
        f"{url}/approval-requests/{request_id}/decision", ANN, {"approve": True, "note": "ok"}
    )
    assert job["milestone"] == "approved" and job["production_status"] == "sold"
    assert job["job_number"].startswith(f"{date.today().year}-")

    # The hand-off refuses an incomplete file, listing everything missing.
    refused = jobs.post(f"{url}/handoff", headers=ANN)
    assert refused.status_code == 409
    assert "colour confirmation (metal)" in refused.json()["missing"]
    assert "measurements" in refused.json()["missing"]
    materials = {
        "manufacturer": "Drexel",
        "product": "DMC 150SS",
        "colour": "Galvalume",
        "quantity_squares": "28",
        "supplier": "ABC Supply",
    }
    post(f"{url}/materials", ANN, materials)
    post(f"{url}/measurements", ANN, {"roof_squares": "27.5", "pitch": "6/12"})
    post(
        f"{url}/documents",
        ANN,
        {"type": "photo", "checklist": "property", "location": "s3://a.jpg"},
        status=201,
    )
    refused = jobs.post(f"{url}/handoff", headers=ANN)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["colour confirmation (metal)", "colour photos (metal)"]
    post(
        f"{url}/materials", ANN, {**materials, "colour_confirmed": True, "order_date": "2026-11-23"}
    )
    post(
        f"{url}/documents",
        ANN,
        {"type": "photo", "checklist": "colour", "location": "s3://c.jpg"},
        status=201,
    )
    job = post(f"{url}/handoff", ANN)
    assert job["handed_off_at"] and job["production_status"] == "ordered"
    deadlines = jobs.get("/jobs/deadlines", headers=PAT, params={"within_days": 30}).json()
    assert [d["job_id"] for d in deadlines if d["job_id"] == job_id] == [job_id]

    # Production schedules; the metal crew is assigned by the trade manager, not Pat.
    crew = post(
        "/crews",
        PAT,
        {
            "name": "Metal crew A",
            "trades": ["metal"],
            "home_latitude": 30.27,
            "home_longitude": -97.74,
            "daily_capacity": 1,
            "member_ids": ["ivan"],
        },
        status=201,
    )
    start = date.today() + timedelta(days=7)
    post(f"{url}/schedule", PAT, {"start_date": start.isoformat(), "duration_days": 2})
    suggestions = jobs.get(f"{url}/crew-suggestions", headers=PAT).json()
    assert (
        suggestions[0]["crew"]["crew_id"] == crew["crew_id"] and suggestions[0]["trade_match"] == 1
    )
    refused = jobs.post(f"{url}/crew", headers=PAT, json={"crew_id": crew["crew_id"]})
    assert (
        refused.status_code == 409
        and refused.json()["rules"][0]["rule"] == "special-trades-by-trade-manager"
    )
    post(f"{url}/crew", TINA, {"crew_id": crew["crew_id"]})
    calendar = jobs.get(
        "/schedule",
        headers=PAT,
        params={"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat()},
    ).json()
    assert [(e["day"], e["crew_name"]) for e in calendar if e["job_id"] == job_id] == [
        (start.isoformat(), "Metal crew A"),
        ((start + timedelta(days=1)).isoformat(), "Metal crew A"),
    ]
    assert jobs.get(url, headers=IVAN).status_code == 200  # the installer sees his crew's job
    assert jobs.get(url, headers=as_user("olga", "installer")).status_code == 404
    # The installer portal: messaging learned the crew from jobs' event; only its members read.
    thread = f"{suite['messaging']}/jobs/{job_id}/thread"
    wait_for(lambda: httpx.get(thread, headers=IVAN).status_code == 200, "Ivan's thread")
    assert httpx.get(thread, headers=as_user("olga", "installer")).status_code == 404
    assert (
        httpx.get(f"{suite['billing']}/finance-folders/{job_id}", headers=IVAN).status_code == 403
    )

    # A change order raises the contract price; the work is done and confirmed.
    job = post(
        f"{url}/change-orders",
        SAM,
        {"signed_on": "2026-11-25", "amount": "750.00", "note": "snow guards"},
        status=201,
    )
    assert Decimal(job["current_contract_price"]) == Decimal("13250.00")
    post(f"{url}/start", IVAN)
    # The installer's Post Roof Inspection photo is not the project manager's (seed 000).
    post(
        f"{url}/documents",
        IVAN,
        {"type": "photo", "checklist": "post_roof_inspection", "location": "s3://ivan.jpg"},
        status=201,
    )
    refused = jobs.post(f"{url}/complete", headers=ANN)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["Post Roof Inspection photos from the project manager"]
    post(
        f"{url}/documents",
        PETE,
        {"type": "photo", "checklist": "post_roof_inspection", "location": "s3://pri.jpg"},
        status=201,
    )
    job = post(f"{url}/complete", ANN)
    assert job["production_status"] == "complete"
    post(f"{url}/milestone", ANN, {"to": "completed"})
    # Billing invoices the completed job: sending it moves the job to Invoiced (seed 004).
    billing = httpx.Client(base_url=suite["billing"], timeout=30)
    bea = as_user("bea", "billing")

    def invoiced() -> Any:
        response = billing.post(f"/jobs/{job_id}/invoices", headers=bea, json={})
        return response.json() if response.status_code == 201 else None

    invoice = wait_for(invoiced, "billing to keep the job's line items")
    assert Decimal(invoice["total"]) == Decimal("12650.00")  # 11,900 + 0 + the 750 change order
    sent = billing.post(f"/invoices/{invoice['invoice_id']}/send", headers=bea)
    assert sent.status_code == 200, sent.text
    wait_for(lambda: jobs.get(url, headers=ANN).json()["milestone"] == "invoiced", "Invoiced")
    refused = jobs.post(f"{url}/milestone", headers=ANN, json={"to": "closed"})
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["final payment received", "all expenses entered and paid"]

    # Bea enters the job's expenses in billing, paid, and confirms they are all in: billing
    # publishes that the costs are settled (seed 004), and jobs keeps it on the job.
    expense = {"category": "materials", "vendor": "ABC Supply", "amount": "5120.00"}
    day = date.today().isoformat()
    recorded = billing.post(
        f"/jobs/{job_id}/expenses",
        headers=bea,
        json=expense | {"incurred_on": day, "paid_on": day},
    )
    assert recorded.status_code == 201, recorded.text
    entered = billing.put(f"/jobs/{job_id}/expenses/entered", headers=bea, json={"entered": True})
    assert entered.status_code == 200 and entered.json()["settled"] is True
    wait_for(lambda: jobs.get(url, headers=ANN).json()["billing"]["costs_settled"], "costs settled")

    # The payment in billing is the final one: it releases the job, and with its costs settled
    # jobs closes it by itself (seed 004); a Closed job is read-only.
    payment = {"amount": "13250.00", "received_on": day, "method": "check"}
    paid = billing.post(f"/jobs/{job_id}/payments", headers=bea, json=payment)
    assert paid.status_code == 201 and Decimal(paid.json()["balance"]["balance"]) == 0
    wait_for(lambda: jobs.get(url, headers=ANN).json()["milestone"] == "closed", "closed")
    job = jobs.get(url, headers=ANN).json()
    assert job["production_status"] == "released" and job["history"][-1]["by"] == "billing"
    refused = jobs.post(f"{url}/documents", headers=ANN, json={"type": "other", "location": "x"})
    assert refused.status_code == 409 and "Closed" in refused.json()["detail"]
    board = jobs.get("/pipeline", headers=ANN).json()
    assert next(c for c in board["milestones"] if c["status"] == "closed")["count"] >= 1
    assert len(jobs.get(f"{url}/audit", headers=ANN).json()) >= 20

    settings = load_settings(topic_prefix=namespace)
    # Every change is on the jobs topic, keyed by the job, in order, sequences without gaps.
    records = asyncio.run(read_topic(bootstrap_servers, settings.topic("jobs")))
    mine = [decode(r) for r in records if r.key == job_id.encode()]
    job_events = [e for e in mine if e["type"].startswith("jobs.")]
    assert [e["sequence"] for e in job_events] == list(range(1, len(job_events) + 1))
    types = [e["type"].removeprefix("jobs.").removesuffix(".v1") for e in job_events]
    milestones = [
        e["data"]["to_milestone"] for e in job_events if e["type"] == "jobs.milestone_changed.v1"
    ]
    assert milestones == ["prospect", "approved", "completed", "invoiced", "closed"]
    for earlier, later in [
        ("lead_created", "job_sold"),
        ("job_sold", "handed_off_to_production"),
        ("handed_off_to_production", "job_scheduled"),
        ("job_scheduled", "crew_assigned"),
        ("crew_assigned", "change_order_added"),
    ]:
        assert types.index(earlier) < types.index(later), (earlier, later, types)
    crew_assigned = next(e for e in job_events if e["type"] == "jobs.crew_assigned.v1")
    assert crew_assigned["data"]["customer"]["phone"] == "555-0142"  # messaging never calls back
    sold = next(e for e in job_events if e["type"] == "jobs.job_sold.v1")
    assert sold["data"]["sales_rep_id"] == "sam" and len(sold["data"]["line_items"]) == 2
    assert any(
        e["type"] == "policy.decision_made.v1" and e["data"]["outcome"] == "require" for e in mine
    )
    # The metal job's hand-off tells the trade manager: the decision names the role, and
    # messaging delivers it to her by email through the SMTP server.
    (email,) = wait_for(lambda: smtp.to("tina@metal.example"), "the trade manager's email")
    assert email["Subject"] == "[Roofline] Notify: jobs.submit_to_production on " + job_id
    told = [
        (rule["outcome"], rule["to"])
        for e in mine
        if e["type"] == "policy.decision_made.v1"
        for rule in e["data"]["matched"]
        if rule["outcome"] in ("notify", "escalate")
    ]
    assert ("notify", "trade_manager") in told
