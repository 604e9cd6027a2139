"""Messaging as its users meet it, the five services running as processes on the real servers
with a real SMTP server: an installer assigned to a job sees it and its thread, exchanges
messages with the office with read receipts and client read times (live on his SSE stream,
resumed with Last-Event-ID), is unassigned and loses access; a completed job's survey email
is answered through its link with a low rating, and the event billing reads is on the topic; a
delivery webhook's hard bounce stops sends to the address.

Jobs' events are published on the jobs topic as jobs publishes them (the jobs service's own
path to them is the job lifecycle e2e's)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.contracts.base import EventData
from shared.contracts.jobs import CrewAssigned, CustomerContact, LeadCreated, MilestoneChanged
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import decode, raw_producer, read_topic, send_envelope
from tests.support.mailgun import example
from tests.support.smtp import SmtpServer, html_of, text_of
from tests.support.suite import bearer, wait_for

TENANT = "glasshouse"
POLICIES = Path(__file__).resolve().parents[2] / "policies"
WEBHOOK_KEY = "e2e-webhook-signing-key"


def as_user(user: str, *roles: str) -> dict[str, str]:
    return bearer(user, *roles, tenant=TENANT)


PAT = as_user("pat", "production_manager")
IVAN = as_user("ivan", "installer")
OLGA = as_user("olga", "installer")


@pytest.fixture(scope="module", autouse=True)
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """A real SMTP server, and this tenant's approved override of the surveys policy (no delay:
    the survey goes as soon as the job is completed), set before the suite starts."""
    policies = tmp_path_factory.mktemp("policies") / "policies"
    shutil.copytree(POLICIES, policies)
    with (policies / "surveys.yaml").open("a") as rules:
        rules.write(
            "overrides:\n"
            f"  - tenant: {TENANT}\n"
            "    approved_by: ops@glasshouse.example\n"
            "    reason: The e2e tenant surveys at once.\n"
            "    params: {delay_business_days: 0}\n"
        )
    server = SmtpServer().start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOFLINE_SMTP_PORT", str(server.port))
        env.setenv("ROOFLINE_EMAIL_SEND_INTERVAL_S", "0.2")
        env.setenv("ROOFLINE_POLICY_DIR", str(policies))
        env.setenv("ROOFLINE_EMAIL_WEBHOOK_SIGNING_KEY", WEBHOOK_KEY)
        env.setenv("ROOFLINE_SSE_POLL_INTERVAL_S", "0.1")
        yield server
    server.stop()


@pytest.fixture(scope="module")
def publish(namespace: str, bootstrap_servers: str) -> Callable[[EventData, str], None]:
    settings = load_settings(topic_prefix=namespace)

    def send(event: EventData, job_id: str) -> None:
        outgoing = encode_event(
            event,
            source="jobs",
            subject=job_id,
            tenant_id=TENANT,
            max_bytes=settings.max_message_bytes,
        )

        async def produce() -> None:
            async with raw_producer(bootstrap_servers) as producer:
                await send_envelope(producer, settings.topic("jobs"), outgoing)

        asyncio.run(produce())

    return send


CUSTOMER = CustomerContact(
    name="Rita Moreno", phone="555-0142", email="rita@home.example", property_address="8 Quarry Rd"
)


def lead(job_id: str) -> LeadCreated:
    return LeadCreated(
        job_id=job_id,
        customer_name=CUSTOMER.name,
        phone=CUSTOMER.phone,
        email=CUSTOMER.email,
        property_address=CUSTOMER.property_address,
        salesman_id="sam",
    )


def crew(job_id: str, crew_id: str, members: list[str]) -> CrewAssigned:
    start = date.today() + timedelta(days=7)
    return CrewAssigned(
        job_id=job_id,
        crew_id=crew_id,
        crew_name=f"Crew {crew_id}",
        member_ids=members,
        days=[start, start + timedelta(days=1)],
        customer=CUSTOMER,
    )


def sse(url: str, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of a live stream, read off the wire."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with httpx.stream("GET", f"{url}/stream", headers=headers, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "data" in current:
                    events.append(current)
                    if len(events) == count:
                        return events
                current = {}
                continue
            field, _, value = line.partition(": ")
            if field in ("id", "event"):
                current[field] = value
            elif field == "data":
                current["data"] = json.loads(value)
    return events


def test_an_installer_sees_his_job_and_talks_with_the_office_until_unassigned(
    suite: dict[str, str], publish: Callable[[EventData, str], None]
) -> None:
    messaging = httpx.Client(base_url=suite["messaging"], timeout=30)
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    publish(lead(job_id), job_id)
    publish(crew(job_id, "a", ["ivan"]), job_id)

    work = wait_for(lambda: messaging.get("/portal/work", headers=IVAN).json(), "Ivan's work")
    assert [(w["subject_id"], w["property_address"]) for w in work] == [(job_id, "8 Quarry Rd")]
    assert messaging.get(f"/portal/jobs/{job_id}", headers=OLGA).status_code == 404
    thread_id = messaging.get(f"/jobs/{job_id}/thread", headers=IVAN).json()["thread"]["thread_id"]
    url = f"/threads/{thread_id}"

    # The office writes; Ivan's stream has the assignment, then the message, live.
    posted = messaging.post(f"{url}/messages", headers=PAT, json={"body": "Gate code is 4411"})
    assert posted.status_code == 201, posted.text
    first, second = sse(suite["messaging"], IVAN, 2)
    assert (first["event"], second["event"]) == ("assigned", "message")
    assert second["data"]["body"] == "Gate code is 4411"
    assert messaging.get("/unread", headers=IVAN).json()["total"] == 1

    # Ivan's app shows it, then he marks it read with its own time; Pat sees the receipt.
    shown = datetime.now(UTC)
    read = messaging.post(
        f"{url}/read", headers=IVAN, json={"up_to_seq": 1, "client_read_at": shown.isoformat()}
    )
    assert read.json()["marked"] == 1
    (seen,) = messaging.get(f"{url}/messages/1/seen-by", headers=PAT).json()
    assert seen["user_id"] == "ivan" and datetime.fromisoformat(seen["client_read_at"]) == shown
    reply = messaging.post(f"{url}/messages", headers=IVAN, json={"body": "In. Starting tear-off"})
    assert reply.status_code == 201
    # Pat's stream, resumed after the first event, misses nothing.
    pats = sse(suite["messaging"], PAT, 3)
    assert [e["event"] for e in pats] == ["message", "read", "message"]
    resumed = sse(suite["messaging"], PAT | {"Last-Event-ID": pats[0]["id"]}, 2)
    assert [e["id"] for e in resumed] == [pats[1]["id"], pats[2]["id"]]
    assert resumed[0]["data"]["reader_id"] == "ivan"
    assert messaging.get("/unread", headers=PAT).json()["total"] == 1

    # Another crew takes the job: Ivan loses it and its thread; what he wrote stays.
    publish(crew(job_id, "b", ["olga"]), job_id)
    wait_for(lambda: messaging.get(url, headers=IVAN).status_code == 404, "Ivan losing access")
    assert messaging.get("/portal/work", headers=IVAN).json() == []
    bodies = [m["body"] for m in messaging.get(f"{url}/messages", headers=OLGA).json()]
    assert bodies == ["Gate code is 4411", "In. Starting tear-off"]


def test_a_completed_job_survey_answered_through_its_link_tells_billing(
    suite: dict[str, str],
    publish: Callable[[EventData, str], None],
    smtp: SmtpServer,
    namespace: str,
    bootstrap_servers: str,
) -> None:
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    publish(lead(job_id), job_id)
    publish(crew(job_id, "a", ["ivan"]), job_id)
    publish(
        MilestoneChanged(
            job_id=job_id,
            from_milestone="approved",
            to_milestone="completed",
            by="ann",
            job_number="2026-0042",
        ),
        job_id,
    )
    email = wait_for(lambda: smtp.to("rita@home.example"), "the survey email")[0]
    assert email["Subject"] == "How did we do?"
    link = re.search(r"http://\S+/surveys/\S+", text_of(email))
    assert link is not None, text_of(email)
    assert "/email/open/" in html_of(email)  # the open pixel

    form = httpx.get(link.group(0), timeout=30)
    assert form.status_code == 200 and "How did we do?" in form.text
    answered = httpx.post(link.group(0), data={"overall": "2"}, timeout=30)
    assert answered.status_code == 200 and "Thank you" in answered.text
    again = httpx.post(link.group(0), data={"overall": "5"}, timeout=30)
    assert again.status_code == 410 and "already answered" in again.text

    # The rating is on messaging's topic, where billing's collection policy reads it.
    settings = load_settings(topic_prefix=namespace)

    def answered_events() -> list[dict[str, Any]]:
        records = asyncio.run(read_topic(bootstrap_servers, settings.topic("messaging")))
        return [
            e
            for e in map(decode, records)
            if e["type"] == "messaging.survey_answered.v1" and e["data"]["job_id"] == job_id
        ]

    (event,) = wait_for(answered_events, "the survey_answered event")
    assert event["data"]["rating"] == 2 and event["data"]["crew_id"] == "a"
    assert event["tenant_id"] == TENANT


def test_a_hard_bounce_stops_further_emails_to_the_address(
    suite: dict[str, str], publish: Callable[[EventData, str], None], smtp: SmtpServer
) -> None:
    messaging = httpx.Client(base_url=suite["messaging"], timeout=30)
    for user in ("olga", "ivan"):
        person = {"user_id": user, "name": user.title(), "email": f"{user}@crew.example"}
        put = messaging.put(f"/people/{user}", headers=PAT, json={**person, "roles": ["installer"]})
        assert put.status_code == 200, put.text
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    publish(lead(job_id), job_id)
    publish(crew(job_id, "b", ["olga", "ivan"]), job_id)
    (assigned,) = wait_for(lambda: smtp.to("olga@crew.example"), "Olga's assignment email")

    bounce = example(
        WEBHOOK_KEY,
        assigned["Message-ID"],
        "failed",
        severity="permanent",
        now=datetime.now(UTC),
        recipient="olga@crew.example",
    )
    reported = messaging.post("/email/webhooks/provider", json=bounce)
    assert reported.status_code == 200 and reported.json()["result"].startswith("bounced")

    thread_id = messaging.get(f"/jobs/{job_id}/thread", headers=PAT).json()["thread"]["thread_id"]
    posted = messaging.post(
        f"/threads/{thread_id}/messages", headers=PAT, json={"body": "Shingles moved to Tuesday"}
    )
    assert posted.status_code == 201
    # Ivan's alert of the message arrives; Olga's never does (it reaches her portal only).
    wait_for(
        lambda: [m for m in smtp.to("ivan@crew.example") if "Shingles" in text_of(m)],
        "Ivan's alert of the message",
    )
    assert messaging.get("/unread", headers=OLGA).json()["threads"][thread_id] == 1
    assert [m["Subject"] for m in smtp.to("olga@crew.example")] == [assigned["Subject"]]
    email_id = assigned["Message-ID"].strip("<>").split("@")[0]
    log = messaging.get(f"/emails/{email_id}/log", headers=PAT).json()
    assert [step["status"] for step in log][-1] == "bounced"
