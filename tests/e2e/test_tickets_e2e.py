"""Tickets through HTTP, the five services running as processes: a sold metal job (jobs' events
on its topic, as jobs publishes them) gets a callback ticket that names the crew that installed
it; a ticket without a line item is refused naming the rule; a complaint opens an issue billing
reads on the tickets topic, followed up until the service manager is told, and cleared by the
repair; a technician sees only their own tickets and reports an issue from the field."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import decode, raw_producer, read_topic, send_envelope
from tests.support.suite import bearer, wait_for

TENANT = "fixit"
CUSTOMER = CustomerContact(name="Dana Reyes", phone="555-0100", property_address="12 Elm St")


def as_user(user: str, *roles: str) -> dict[str, str]:
    return bearer(user, *roles, tenant=TENANT)


SUE = as_user("sue", "service_manager")
TOM = as_user("tom", "technician")
TINA = as_user("tina", "technician")


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

    # A technician's field issue, on a job she works on: a work order in the Issues queue,
    # hers to see. Before she has work on the job, it is as unknown to her as another tenant's.
    issue = {
        "job_id": "job-9",
        "note": "Loose flashing on the north side",
        "line_items": [{"description": "Assessment", "unit_price": "0.00"}],
    }
    call("POST", "/field-issues", TINA, issue, 404)
    call("POST", f"/tickets/{callback['ticket_id']}/assignment", SUE, {"technician_ids": ["tina"]})
    field = call("POST", "/field-issues", TINA, issue, 201)
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


def test_a_weekly_customer_a_one_time_job_and_a_new_service(
    suite: dict[str, str], namespace: str
) -> None:
    client = httpx.Client(base_url=suite["tickets"], timeout=30)

    def call(
        method: str, path: str, who: dict[str, str], body: Any = None, status: int = 200
    ) -> Any:
        response = client.request(method, path, headers=who, json=body)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    dana = {"name": "Dana Reyes", "property_address": "12 Elm St"}
    call("PUT", "/technicians/tina", SUE, {"daily_visits": 2})
    call("PUT", f"/technicians/{'t' * 101}", SUE, {"daily_visits": 2}, 422)
    backwards = call("GET", "/calendar?start=2026-12-10&end=2026-12-01", SUE, status=422)
    assert backwards["errors"][0]["field"] == "end"

    # A weekly customer on Wednesdays, the first visit two to three weeks out: undecided on the
    # first call, then approved: the plan recurs, its first month prorated on the work order.
    soon = date.today() + timedelta(days=14)
    first = soon + timedelta(days=(2 - soon.weekday()) % 7)
    plan = call(
        "POST",
        "/plans",
        SUE,
        {
            "customer": dana,
            "weekday": 2,
            "technician_id": "tina",
            "monthly_price": "120.00",
            "first_visit": str(first),
        },
        201,
    )
    tech_order = plan["tech_ticket_id"]
    refused = call("POST", f"/tickets/{tech_order}/start", TINA, status=409)
    assert "payment information on file" in str(refused)
    card = {"payment": {"kept_in": "card_processor", "reference": "4111111111111111"}}
    call("PUT", f"/tickets/{tech_order}/payment-on-file", SUE, card, 422)
    on_file = {"payment": {"kept_in": "card_processor", "reference": "cus_9Xa71"}}
    call("PUT", f"/tickets/{tech_order}/payment-on-file", SUE, on_file)
    call("POST", f"/tickets/{tech_order}/start", TINA)
    tracking = call("POST", f"/plans/{plan['plan_id']}/first-visit-done", SUE)
    assert tracking["queue"] == "unapproved_maintenance"
    call("POST", f"/tickets/{tracking['ticket_id']}/calls", SUE, {"outcome": "undecided"})
    call("POST", f"/tickets/{tracking['ticket_id']}/calls", SUE, {"outcome": "approved"})
    active = call("GET", f"/plans/{plan['plan_id']}", SUE)
    in_month = [
        day
        for day in (first.replace(day=1) + timedelta(days=n) for n in range(31))
        if day.month == first.month and day.weekday() == 2
    ]
    left = [day for day in in_month if day >= first]
    amount = (Decimal("120.00") * len(left) / len(in_month)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert active["status"] == "active" and Decimal(active["first_month"]) == amount
    order = call("GET", f"/tickets/{tech_order}", SUE)
    month = first.strftime("%B %Y")
    assert order["line_items"][-1]["description"] == (
        f"Weekly service, {month} prorated: {len(left)} of {len(in_month)} visits"
    )
    # Every Wednesday from the first visit to eight weeks from today, on Tina's calendar.
    visits = [v["day"] for v in active["visits"] if v["status"] == "scheduled"]
    horizon = date.today() + timedelta(weeks=8)
    weeks = (horizon - first).days // 7
    assert visits == [str(first + timedelta(weeks=n)) for n in range(weeks + 1)]

    # A one-time job whose return trips would put Tina past her two visits on the Tuesday
    # after the first visit (the Wednesday has the weekly visit and one return trip).
    tuesday, wednesday = first + timedelta(days=6), first + timedelta(days=7)

    def one_time(what: str) -> str:
        body = {"type": "one_time", "customer": dana, "line_items": [{"description": what}]}
        return call("POST", "/tickets", SUE, body, 201)["ticket_id"]

    def trips(*days: date) -> dict[str, Any]:
        return {"visits": [{"day": str(day), "technician_id": "tina"} for day in days]}

    call("POST", f"/tickets/{one_time('Assess leak')}/visits", SUE, trips(tuesday))
    call("POST", f"/tickets/{one_time('Gutters')}/visits", SUE, trips(tuesday, wednesday))
    overbooked = call(
        "POST", f"/tickets/{one_time('Flashing')}/visits", SUE, trips(tuesday, wednesday), 409
    )
    assert f"tina would have 3 visit(s) on {tuesday}" in str(overbooked)
    days = call("GET", f"/calendar?start={tuesday}&end={wednesday}&technician=tina", SUE)
    assert [(d["day"], d["booked"], d["free"]) for d in days] == [
        (str(tuesday), 2, 0),
        (str(wednesday), 2, 0),
    ]

    # A new service: started only once the estimate is accepted and every waiver is back.
    service = call(
        "POST",
        "/tickets",
        SUE,
        {"type": "new_service", "customer": dana, "line_items": [{"description": "Install"}]},
        201,
    )
    ticket = service["ticket_id"]
    call(
        "POST",
        f"/tickets/{ticket}/schedule",
        SUE,
        {"start_date": "2027-01-05", "end_date": "2027-01-05"},
    )
    call("POST", f"/tickets/{ticket}/estimate", SUE, {"status": "sent", "amount": "1800.00"})
    call("POST", f"/tickets/{ticket}/estimate", SUE, {"status": "accepted"})
    call("POST", f"/tickets/{ticket}/waivers", SUE, {"waiver": "HOA release"})
    waiting = call("POST", f"/tickets/{ticket}/start", SUE, status=409)
    assert "HOA release" in str(waiting) and "returned waivers" in str(waiting)
    call("POST", f"/tickets/{ticket}/waivers", SUE, {"waiver": "HOA release", "returned": True})
    assert call("POST", f"/tickets/{ticket}/start", SUE)["status"] == "in_progress"
