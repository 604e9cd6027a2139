"""Tickets through HTTP, the five services running as processes: a sold metal job (jobs' events
on its topic, as jobs publishes them) gets a callback ticket that names the crew that installed
it; a ticket without a line item is refused naming the rule; a complaint opens an issue billing
reads on the tickets topic, followed up until the service manager is told, and cleared by the
repair; a technician sees only their own tickets and reports an issue from the field."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold
from shared.platform.http.auth import mint_token
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import decode, raw_producer, read_topic, send_envelope

TENANT = "fixit"
CUSTOMER = CustomerContact(name="Dana Reyes", phone="555-0100", property_address="12 Elm St")


def as_user(user: str, *roles: str) -> dict[str, str]:
    token = mint_token(load_settings(), user=user, tenant=TENANT, roles=list(roles))
    return {"Authorization": f"Bearer {token}"}


SUE = as_user("sue", "service_manager")
TOM = as_user("tom", "technician")
TINA = as_user("tina", "technician")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


async def publish_sold_job(bootstrap_servers: str, topic: str) -> None:
    """What jobs publishes when the job is sold and its crew assigned."""
    settings = load_settings("jobs")
    sold = JobSold(
        job_id="job-9",
        job_number="2026-0009",
        sold_on=date(2026, 6, 1),
        sales_rep_id="sam",
        contract_price=None,
        sale_price=None,
        customer=CUSTOMER,
        trades=["metal"],
        line_items=[],
    )
    crew = CrewAssigned(
        job_id="job-9",
        crew_id="crew-a",
        crew_name="Alpha",
        member_ids=["ian"],
        days=[date(2026, 6, 10)],
        customer=CUSTOMER,
    )
    async with raw_producer(bootstrap_servers) as producer:
        for sequence, event in enumerate((sold, crew), start=7):
            envelope = encode_event(
                event,
                source="jobs",
                subject="job-9",
                tenant_id=TENANT,
                sequence=sequence,
                max_bytes=settings.max_message_bytes,
            )
            await send_envelope(producer, topic, envelope)


def test_tickets_from_a_callback_to_a_cleared_complaint(
    suite: dict[str, str], namespace: str, bootstrap_servers: str
) -> None:
    client = httpx.Client(base_url=suite["tickets"], timeout=30)

    def call(
        method: str, path: str, who: dict[str, str], body: Any = None, status: int = 200
    ) -> Any:
        response = client.request(method, path, headers=who, json=body)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    asyncio.run(publish_sold_job(bootstrap_servers, f"{namespace}.jobs.events"))
    visit = {"description": "Service visit", "quantity": "1", "unit_price": "95.00"}

    # A callback for the sold job, once tickets has its events: the installing crew shows.
    def open_callback() -> Any:
        response = client.post(
            "/tickets",
            headers=SUE,
            json={"type": "callback", "job_id": "job-9", "line_items": [visit]},
        )
        return response.json() if response.status_code == 201 else None

    callback = wait_for(open_callback, "tickets to know job-9 from jobs' events")
    assert (callback["installed_by_crew_name"], callback["customer"]["name"]) == (
        "Alpha",
        "Dana Reyes",
    )
    assert callback["money"] == {"amount_due": "95.00", "payment_status": "unpaid"}

    refused = call(
        "POST", "/tickets", SUE, {"type": "warranty", "job_id": "job-9", "line_items": []}, 409
    )
    assert refused["type"].endswith("policy-denied")
    assert "at-least-one-line-item" in str(refused)

    # A complaint: into the Issues queue, followed up until the service manager is told.
    complaint = call(
        "POST",
        "/tickets",
        SUE,
        {
            "type": "callback",
            "job_id": "job-9",
            "line_items": [{"description": "Leak check", "unit_price": "0.00"}],
            "technician_ids": ["tom"],
            "issue": {"kind": "complaint", "note": "Leak over the garage"},
        },
        201,
    )
    ticket = complaint["ticket_id"]
    assert complaint["queue"] == "issues" and complaint["follow_up"]["next_due"]
    for outcome in ("no_answer", "undecided", "no_answer"):
        followed = call("POST", f"/tickets/{ticket}/calls", SUE, {"outcome": outcome})
    assert followed["follow_up"]["escalated_to"] == "service_manager"

    # Tom sees his ticket and not the callback; Tina sees neither.
    assert [t["ticket_id"] for t in call("GET", "/tickets", TOM)] == [ticket]
    call("GET", f"/tickets/{callback['ticket_id']}", TOM, status=404)
    assert call("GET", "/tickets", TINA) == []

    call(
        "POST",
        f"/tickets/{ticket}/schedule",
        SUE,
        {"start_date": "2026-12-02", "end_date": "2026-12-02"},
    )
    call("POST", f"/tickets/{ticket}/start", TOM)
    done = call("POST", f"/tickets/{ticket}/complete", TOM)
    assert (done["status"], done["queue"]) == ("complete", None)

    # A technician's field issue: a work order in the Issues queue, theirs to see.
    field = call(
        "POST",
        "/field-issues",
        TINA,
        {
            "job_id": "job-9",
            "note": "Loose flashing on the north side",
            "line_items": [{"description": "Assessment", "unit_price": "0.00"}],
        },
        201,
    )
    assert (field["queue"], field["assignment"]["technician_ids"]) == ("issues", ["tina"])
    assert call("GET", "/tickets?queue=issues", TINA)[0]["ticket_id"] == field["ticket_id"]

    # The end of day: configured per tenant; the supervisor's command runs today's move once.
    call("PUT", "/end-of-day", SUE, {"timezone": "America/Chicago", "at": "17:30"})
    bad = call("PUT", "/end-of-day", SUE, {"timezone": "Mars/Olympus", "at": "17:30"}, 422)
    assert "unknown time zone" in str(bad)
    first = call("POST", "/end-of-day/run", SUE)
    again = call("POST", "/end-of-day/run", SUE)
    assert (first["ran_now"], again["ran_now"], again["by"]) == (True, False, "sue")
    call("POST", "/end-of-day/run", TOM, status=403)

    # On the tickets topic, what billing's collection policy reads: the complaint opened and
    # cleared by its repair, keyed by the ticket, in order.
    records = asyncio.run(read_topic(bootstrap_servers, f"{namespace}.tickets.events"))
    issues = [
        (decode(r)["type"], decode(r)["data"]["kind"])
        for r in sorted(records, key=lambda r: r.offset)
        if r.key == ticket.encode() and decode(r)["type"].startswith("tickets.issue_")
    ]
    assert issues == [
        ("tickets.issue_opened.v1", "complaint"),
        ("tickets.issue_resolved.v1", "complaint"),
    ]
