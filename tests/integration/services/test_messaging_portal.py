"""The installer portal, surveys and delivery reports on the real PostgreSQL, through the
messaging service's HTTP API (in-process over ASGI) with tokens as each user holds them. Jobs'
events are applied by messaging's own consumer handlers, in its units of work."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.messaging import app as messaging_app
from services.messaging.domain.directory import Person
from services.messaging.handlers import notifications, surveys, work
from services.messaging.handlers.gauges import refresh_gauges
from services.messaging.ports import MessagingDeps, MessagingUnitOfWork
from services.messaging.tables import notices
from shared.contracts.base import EventData
from shared.contracts.jobs import (
    CrewAssigned,
    CustomerContact,
    LeadCreated,
    MaterialsRecorded,
    MilestoneChanged,
    TeamAssigned,
)
from shared.platform.http.auth import mint_token
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.service import Service
from tests.support.harness import create_topics, metric_value, running, settings_for
from tests.support.mailgun import example

Handler = Callable[[MessagingUnitOfWork, Envelope, Any], Awaitable[None]]


@pytest.fixture
async def service(
    namespace: str, database_url: str, bootstrap_servers: str
) -> AsyncIterator[Service[MessagingDeps]]:
    settings = settings_for(
        "messaging",
        f"{namespace}p{uuid.uuid4().hex[:6]}",
        database_url,
        bootstrap_servers,
        email_send_interval_s=3600,  # nothing is sent here: the queue is read instead
        public_url="https://portal.acme.example",
    )
    await create_topics(settings, "messaging", "jobs", "tickets", "billing", "commissions")
    built = messaging_app.build(settings)
    # The tests apply messaging's handlers themselves: no consumer group to join.
    async with running(built.platform, consume=False):
        yield built


@pytest.fixture
async def client(service: Service[MessagingDeps]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://messaging") as client:
        yield client


def as_user(
    service: Service[MessagingDeps], user: str, *roles: str, tenant: str = "acme"
) -> dict[str, str]:
    token = mint_token(service.platform.settings, user=user, tenant=tenant, roles=roles)
    return {"Authorization": f"Bearer {token}"}


async def apply(
    deps: MessagingDeps, handle: Handler, event: EventData, subject: str, tenant: str = "acme"
) -> None:
    outgoing = encode_event(
        event, source="jobs", subject=subject, tenant_id=tenant, max_bytes=1_000_000
    )
    async with deps.unit_of_work(tenant) as uow:
        await handle(uow, Envelope.from_bytes(outgoing.body, 1_000_000), event)
        await uow.commit()


CUSTOMER = CustomerContact(
    name="Dana Reyes", email="dana@home.example", property_address="12 Elm St", phone="555-0101"
)


async def a_job_with_crew(deps: MessagingDeps, job_id: str, members: list[str]) -> None:
    await apply(
        deps,
        work.on_lead,
        LeadCreated(
            job_id=job_id,
            customer_name=CUSTOMER.name,
            email=CUSTOMER.email,
            phone=CUSTOMER.phone,
            property_address=CUSTOMER.property_address,
            salesman_id="sam",
        ),
        job_id,
    )
    await apply(
        deps,
        work.on_team,
        TeamAssigned(
            job_id=job_id,
            sales_rep_id="sam",
            csa_id=None,
            production_manager_id="pat",
            project_manager_id=None,
            by="pat",
        ),
        job_id,
    )
    await apply(
        deps,
        work.on_job_event,
        MaterialsRecorded(
            job_id=job_id,
            manufacturer="GAF",
            product="Timberline HDZ",
            colour="Charcoal",
            quantity_squares=28,
            supplier="ABC Supply",
            colour_confirmed=True,
            order_date=None,
            delivery_date=date(2026, 12, 7),
            supplier_status="ordered",
        ),
        job_id,
    )
    await crew(deps, job_id, members)


async def crew(deps: MessagingDeps, job_id: str, members: list[str]) -> None:
    await apply(
        deps,
        work.on_crew,
        CrewAssigned(
            job_id=job_id,
            crew_id="crew-a",
            crew_name="Crew A",
            member_ids=members,
            days=[date(2026, 12, 8), date(2026, 12, 9)],
            customer=CUSTOMER,
        ),
        job_id,
    )


async def queued_emails(service: Service[MessagingDeps], **where: str) -> list[dict[str, Any]]:
    emails = notices["emails"]
    query = sa.select(emails).where(*(emails.c[k] == v for k, v in where.items()))
    async with service.platform.uow_factory() as transaction:
        rows = await transaction.connection.execute(query.order_by(emails.c.email_id))
        return [dict(row._mapping) for row in rows]


async def test_an_installer_sees_his_job_and_thread_with_read_receipts_until_unassigned(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    ivan, olga = as_user(service, "ivan", "installer"), as_user(service, "olga", "installer")
    pat = as_user(service, "pat", "production_manager")
    await notifications.put_person(
        deps,
        "acme",
        Person(user_id="ivan", name="Ivan", email="ivan@crew.example", roles=("installer",)),
    )
    await a_job_with_crew(deps, "job-1", ["ivan"])

    # The job as the field sees it: where, when, what; never money.
    (job,) = (await client.get("/portal/work", headers=ivan)).json()
    assert job["property_address"] == "12 Elm St"
    assert job["days"] == ["2026-12-08", "2026-12-09"]
    assert job["materials"]["product"] == "Timberline HDZ"
    assert not {"contract_price", "balance", "amount"} & set(job)
    assert (await client.get("/portal/work", headers=olga)).json() == []
    assert (await client.get("/portal/jobs/job-1", headers=olga)).status_code == 404

    thread = (await client.get("/jobs/job-1/thread", headers=ivan)).json()["thread"]
    url = f"/threads/{thread['thread_id']}"
    assert (await client.get(url, headers=olga)).status_code == 404
    # Ivan was told of the assignment by email.
    (assigned,) = await queued_emails(service, to_user="ivan", kind="assignment")
    assert "12 Elm St" in assigned["body"] and "2026-12-08" in assigned["body"]

    # Pat writes with an attachment; Ivan has one unread.
    photo = {
        "name": "ridge.jpg",
        "content_type": "image/jpeg",
        "size_bytes": 2048,
        "location": "s3://acme/ridge.jpg",
    }
    posted = await client.post(
        f"{url}/messages",
        headers=pat,
        json={"body": "Ridge vent arrives Monday", "attachments": [photo], "client_key": "k1"},
    )
    assert posted.status_code == 201, posted.text
    first = posted.json()
    again = await client.post(
        f"{url}/messages",
        headers=pat,
        json={"body": "Ridge vent arrives Monday", "client_key": "k1"},
    )
    assert again.status_code == 200 and again.json()["message_id"] == first["message_id"]
    assert (await client.get("/unread", headers=ivan)).json() == {
        "total": 1,
        "threads": {thread["thread_id"]: 1},
    }
    (message_alert,) = await queued_emails(service, to_user="ivan", kind="message")
    assert (
        "Ridge vent arrives Monday" in message_alert["body"]
        and "ridge.jpg" in message_alert["body"]
    )

    # Ivan reads it: the server's time and his app's are both kept; a time that cannot be true
    # is refused, naming the field.
    page = (await client.get(f"{url}/messages", headers=ivan)).json()
    assert [m["body"] for m in page] == ["Ridge vent arrives Monday"]
    assert page[0]["attachments"] == [photo]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = await client.post(
        f"{url}/read", headers=ivan, json={"up_to_seq": 1, "client_read_at": future}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "client_read_at"
    too_early = (datetime.fromisoformat(first["posted_at"]) - timedelta(hours=1)).isoformat()
    refused = await client.post(
        f"{url}/read", headers=ivan, json={"up_to_seq": 1, "client_read_at": too_early}
    )
    assert refused.status_code == 422
    shown_at = datetime.now(UTC) - timedelta(seconds=1)
    read = await client.post(
        f"{url}/read", headers=ivan, json={"up_to_seq": 1, "client_read_at": shown_at.isoformat()}
    )
    assert read.json() == {"thread_id": thread["thread_id"], "up_to_seq": 1, "marked": 1}
    (seen,) = (await client.get(f"{url}/messages/1/seen-by", headers=pat)).json()
    assert seen["user_id"] == "ivan"
    assert datetime.fromisoformat(seen["client_read_at"]) == shown_at
    assert datetime.fromisoformat(seen["read_at"]) >= datetime.fromisoformat(first["posted_at"])
    assert (await client.get("/unread", headers=ivan)).json()["total"] == 0

    # Ivan answers; Pat's unread counts it; Pat's feed has the receipt and Ivan's answer.
    await client.post(f"{url}/messages", headers=ivan, json={"body": "Thanks, on site at 7"})
    (summary,) = (await client.get("/threads", headers=pat)).json()
    assert summary["unread"] == 1
    pats = await _feed(deps, "pat")
    assert [e.kind for e in pats] == ["message", "read", "message"]
    assert pats[1].data["reader_id"] == "ivan" and pats[1].data["seqs"] == [1]
    # Reconnecting after the first event misses nothing.
    assert [e.seq for e in await _feed(deps, "pat", after=pats[0].seq)] == [
        pats[1].seq,
        pats[2].seq,
    ]
    ivans = await _feed(deps, "ivan")
    assert [e.kind for e in ivans] == ["assigned", "message", "read", "message"]

    # Unassigned: Ivan loses the job and its thread; what he wrote stays for the office.
    await crew(deps, "job-1", ["olga"])
    assert (await client.get("/portal/work", headers=ivan)).json() == []
    assert (await client.get(url, headers=ivan)).status_code == 404
    assert (await client.get(f"{url}/messages", headers=ivan)).status_code == 404
    assert (
        await client.post(f"{url}/messages", headers=ivan, json={"body": "hello?"})
    ).status_code == 404
    assert [m["author_id"] for m in (await client.get(f"{url}/messages", headers=pat)).json()] == [
        "pat",
        "ivan",
    ]
    assert (await client.get(url, headers=olga)).status_code == 200
    assert [e.kind for e in await _feed(deps, "ivan", after=ivans[-1].seq)] == ["unassigned"]
    # Another tenant's office sees nothing of it.
    globex = as_user(service, "gina", "production_manager", tenant="globex")
    assert (await client.get(url, headers=globex)).status_code == 404


async def _feed(deps: MessagingDeps, user: str, after: int = 0) -> list[Any]:
    async with deps.unit_of_work("acme") as uow:
        return await uow.repos.feed.after(user, after, 100)


async def test_a_direct_thread_between_the_office_and_one_installer(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    pat, ivan = as_user(service, "pat", "production_manager"), as_user(service, "ivan", "installer")
    opened = await client.post(
        "/threads", headers=pat, json={"installer_id": "ivan", "title": "Truck keys"}
    )
    assert opened.status_code == 201
    thread_id = opened.json()["thread_id"]
    assert (
        await client.post("/threads", headers=ivan, json={"installer_id": "olga", "title": "x"})
    ).status_code == 403
    await client.post(
        f"/threads/{thread_id}/messages", headers=pat, json={"body": "Keys are at the yard"}
    )
    assert [t["thread_id"] for t in (await client.get("/threads", headers=ivan)).json()] == [
        thread_id
    ]
    olga = as_user(service, "olga", "installer")
    assert (await client.get(f"/threads/{thread_id}", headers=olga)).status_code == 404
    empty = await client.post(f"/threads/{thread_id}/messages", headers=ivan, json={"body": "  "})
    assert empty.status_code == 422


async def test_a_completed_job_gets_one_survey_answered_once_through_its_link(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    pat = as_user(service, "pat", "production_manager")
    await a_job_with_crew(deps, "job-2", ["ivan"])
    questions = {
        "questions": [
            {
                "id": "on_time",
                "type": "yes_no",
                "prompt": "Did the crew arrive on time?",
                "required": True,
            },
            {
                "id": "clean",
                "type": "choice",
                "prompt": "How clean was the site?",
                "choices": ["spotless", "ok", "messy"],
            },
            {"id": "comments", "type": "text", "prompt": "Anything else?"},
        ]
    }
    v1 = await client.put("/survey-questions", headers=pat, json=questions)
    assert v1.status_code == 200 and v1.json()["version"] == 1
    bad = await client.put(
        "/survey-questions",
        headers=pat,
        json={"questions": [{"id": "x", "type": "choice", "prompt": "?"}]},
    )
    assert bad.status_code == 422

    completed = MilestoneChanged(
        job_id="job-2",
        from_milestone="installed",
        to_milestone="completed",
        by="pat",
        job_number="J-1002",
    )

    async def on_milestone(
        uow: MessagingUnitOfWork, envelope: Envelope, event: MilestoneChanged
    ) -> None:
        await surveys.on_milestone(deps, uow, envelope, event)

    await apply(deps, on_milestone, completed, "job-2")
    await apply(deps, on_milestone, completed, "job-2")  # once per job, whatever comes again
    survey = (await client.get("/jobs/job-2/survey", headers=pat)).json()
    (email,) = await queued_emails(service, kind="survey")
    assert email["to_address"] == "dana@home.example"
    token = deps.links.survey_token("acme", survey["survey_id"])
    assert f"https://portal.acme.example/surveys/{token}" in email["body"]
    # Sent after the policy's delay (one business day), not at once.
    assert email["next_attempt_at"] > datetime.now(UTC) + timedelta(hours=12)

    form = await client.get(f"/surveys/{token}")
    assert form.status_code == 200 and "Did the crew arrive on time?" in form.text
    as_json = (await client.get(f"/surveys/{token}?format=json")).json()
    assert [q["id"] for q in as_json["questions"]] == ["overall", "on_time", "clean", "comments"]
    assert as_json["form_version"] == 1

    # The tenant changes its questions meanwhile: the answer keeps the version it answered.
    await client.put("/survey-questions", headers=pat, json={"questions": []})
    missing = await client.post(f"/surveys/{token}", data={"form_version": "1", "overall": "2"})
    assert missing.status_code == 422 and "an answer is required" in missing.text
    answered = await client.post(
        f"/surveys/{token}",
        data={
            "form_version": "1",
            "overall": "2",
            "on_time": "no",
            "clean": "messy",
            "comments": "Nails in the yard",
        },
    )
    assert answered.status_code == 200 and "Thank you" in answered.text
    reused = await client.post(
        f"/surveys/{token}", data={"form_version": "1", "overall": "5", "on_time": "yes"}
    )
    assert reused.status_code == 410 and "already answered" in reused.text
    assert (await client.get(f"/surveys/{token}?format=json")).status_code == 410
    assert (await client.get(f"/surveys/{token[:-3]}abc")).status_code == 404

    kept = (await client.get("/jobs/job-2/survey", headers=pat)).json()
    assert kept["rating"] == 2 and kept["form_version"] == 1
    assert kept["answers"] == {
        "overall": 2,
        "on_time": False,
        "clean": "messy",
        "comments": "Nails in the yard",
    }
    (by_crew,) = (await client.get("/survey-ratings?by=crew", headers=pat)).json()
    assert by_crew["key"] == "crew-a" and by_crew["answered"] == 1 and by_crew["average"] == 2

    # The answer is an event billing reads, in the outbox with the change.
    outbox = service.platform.tables.outbox
    async with service.platform.uow_factory() as transaction:
        types = (
            (await transaction.connection.execute(sa.select(outbox.c.event_type))).scalars().all()
        )
    assert "messaging.survey_answered.v1" in types


async def test_an_expired_survey_link_changes_nothing(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    await a_job_with_crew(deps, "job-3", [])

    async def on_milestone(
        uow: MessagingUnitOfWork, envelope: Envelope, event: MilestoneChanged
    ) -> None:
        await surveys.on_milestone(deps, uow, envelope, event)

    await apply(
        deps,
        on_milestone,
        MilestoneChanged(
            job_id="job-3", from_milestone="installed", to_milestone="completed", by="pat"
        ),
        "job-3",
    )
    pat = as_user(service, "pat", "production_manager")
    survey = (await client.get("/jobs/job-3/survey", headers=pat)).json()
    token = deps.links.survey_token("acme", survey["survey_id"])
    real_clock = deps.clock
    deps.clock = lambda: datetime.fromisoformat(survey["expires_at"]) + timedelta(seconds=1)
    try:
        expired = await client.post(f"/surveys/{token}", json={"overall": 5})
    finally:
        deps.clock = real_clock
    assert expired.status_code == 410 and expired.json()["reason"] == "expired"
    assert (await client.get("/jobs/job-3/survey", headers=pat)).json()["answered_at"] is None


async def test_a_hard_bounce_reported_by_the_webhook_stops_sends_to_the_address(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    key = service.platform.settings.email_webhook_signing_key.get_secret_value()
    await notifications.put_person(
        deps,
        "acme",
        Person(user_id="ivan", name="Ivan", email="Ivan@crew.example", roles=("installer",)),
    )
    await a_job_with_crew(deps, "job-4", ["ivan"])
    (assigned,) = await queued_emails(service, to_user="ivan")
    message_id = f"<{assigned['email_id']}@roofline>"
    now = datetime.now(UTC)

    forged = example("not-our-key", message_id, "failed", severity="permanent", now=now)
    assert (await client.post("/email/webhooks/provider", json=forged)).status_code == 403
    stale = example(key, message_id, "delivered", now=now - timedelta(hours=2))
    assert (await client.post("/email/webhooks/provider", json=stale)).status_code == 403

    delivered = example(key, message_id, "delivered", now=now)
    assert (await client.post("/email/webhooks/provider", json=delivered)).json()[
        "result"
    ] == "delivered: logged"
    # The same post again, or its signature carrying another report, is refused.
    assert (await client.post("/email/webhooks/provider", json=delivered)).status_code == 403
    forged_bounce = example(key, message_id, "failed", severity="permanent", now=now)
    forged_bounce["signature"] = delivered["signature"]
    assert (await client.post("/email/webhooks/provider", json=forged_bounce)).status_code == 403
    # The provider posting one event twice (a retry, a new signature): logged once.
    retried = example(key, message_id, "delivered", now=now)
    retried["event-data"]["id"] = delivered["event-data"]["id"]
    again = await client.post("/email/webhooks/provider", json=retried)
    assert again.json()["result"].startswith("ignored")
    bounce = example(
        key, message_id, "failed", severity="permanent", now=now, recipient="ivan@crew.example"
    )
    result = (await client.post("/email/webhooks/provider", json=bounce)).json()["result"]
    assert result.startswith("bounced: Ivan@crew.example gets nothing more")

    people = (
        await client.get("/people", headers=as_user(service, "pat", "production_manager"))
    ).json()
    assert next(p for p in people if p["user_id"] == "ivan")["bounced"] is True
    # Bounced is the provider's word, not a client's: a PUT cannot clear it.
    pat_headers = as_user(service, "pat", "production_manager")
    ivan = next(p for p in people if p["user_id"] == "ivan") | {"bounced": False}
    await client.put("/people/ivan", headers=pat_headers, json=ivan)
    people = (await client.get("/people", headers=pat_headers)).json()
    assert next(p for p in people if p["user_id"] == "ivan")["bounced"] is True
    # A later alert to the address is kept but never sent.
    pat = as_user(service, "pat", "production_manager")
    thread = (await client.get("/jobs/job-4/thread", headers=pat)).json()["thread"]
    await client.post(
        f"/threads/{thread['thread_id']}/messages",
        headers=pat,
        json={"body": "Tarp the north side"},
    )
    statuses = {e["kind"]: e["status"] for e in await queued_emails(service, to_user="ivan")}
    assert statuses == {"assignment": "bounced"}  # no message alert queued: he takes no email now
    log = (await client.get(f"/emails/{assigned['email_id']}/log", headers=pat)).json()
    assert [step["status"] for step in log] == ["queued", "delivered", "bounced"]


async def test_the_open_pixel_logs_an_open_once_and_only_when_signed(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    await notifications.put_person(
        deps,
        "acme",
        Person(user_id="ivan", name="Ivan", email="ivan@crew.example", roles=("installer",)),
    )
    await a_job_with_crew(deps, "job-5", ["ivan"])
    (assigned,) = await queued_emails(service, to_user="ivan")
    pixel = deps.links.pixel_url(assigned["email_id"]).removeprefix("https://portal.acme.example")
    for _ in range(2):
        fetched = await client.get(pixel)
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/gif"
    assert (await client.get("/email/open/forged-token-1234.gif")).status_code == 200
    pat = as_user(service, "pat", "production_manager")
    log = (await client.get(f"/emails/{assigned['email_id']}/log", headers=pat)).json()
    assert [step["status"] for step in log] == ["queued", "opened"]


async def test_the_gauges_and_counters_say_what_happened(
    service: Service[MessagingDeps], client: httpx.AsyncClient
) -> None:
    deps = service.deps
    await notifications.put_person(
        deps,
        "acme",
        Person(user_id="ivan", name="Ivan", email="ivan@crew.example", roles=("installer",)),
    )
    await a_job_with_crew(deps, "job-6", ["ivan"])
    pat = as_user(service, "pat", "production_manager")
    thread = (await client.get("/jobs/job-6/thread", headers=pat)).json()["thread"]
    await client.post(f"/threads/{thread['thread_id']}/messages", headers=pat, json={"body": "Hi"})
    await refresh_gauges(deps)
    platform = service.platform
    assert metric_value(platform, "roofline_messaging_messages_posted_total", kind="job") == 1
    assert metric_value(platform, "roofline_messaging_emails", status="queued") == 2
    # Neither Ivan (installer) nor Sam (office: the job's sales rep) has read Pat's message.
    age = "roofline_messaging_unread_oldest_age_seconds"
    assert metric_value(platform, age, role="installer") > 0
    assert metric_value(platform, age, role="office") > 0
    ivan = as_user(service, "ivan", "installer")
    await client.post(f"/threads/{thread['thread_id']}/read", headers=ivan, json={"up_to_seq": 1})
    await refresh_gauges(deps)
    assert metric_value(platform, age, role="installer") == 0
    assert metric_value(platform, "roofline_messaging_survey_response_ratio") == 0
