"""Notifications that reach people, on the real servers and a real SMTP server (aiosmtpd): a
policy decision naming the trade manager, published on the jobs topic, reaches the trade manager
by email through the messaging service's worker, once, with its log (queued, sending, sent); and
a send cut off by a crash after the server accepted it is held in doubt, never sent twice; a
server that is down defers the email with backoff, and it goes once the server is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services.messaging import app as messaging_app
from services.messaging.domain.directory import Person
from services.messaging.handlers import email_worker, notifications
from services.messaging.mail import SmtpMailer
from services.messaging.ports import MessagingDeps
from shared.cli.embedded import free_port
from shared.contracts.policy import MatchedRuleSummary, PolicyDecisionMade
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.service import Service
from shared.platform.storage.db import drop_schema
from tests.support.harness import (
    create_topics,
    eventually,
    prepare_schema,
    raw_producer,
    running,
    send_envelope,
    settings_for,
)
from tests.support.smtp import SmtpServer, text_of


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def messaging(
    namespace: str, database_url: str, bootstrap_servers: str, smtp: SmtpServer
) -> AsyncIterator[Service[MessagingDeps]]:
    settings = settings_for(
        "messaging",
        f"{namespace}m",
        database_url,
        bootstrap_servers,
        smtp_port=smtp.port,
        email_send_interval_s=0.2,
    )
    await create_topics(settings, "messaging", "jobs", "tickets", "billing", "commissions")
    service = messaging_app.build(settings)
    async with running(service.platform):
        yield service


def metal_handoff() -> PolicyDecisionMade:
    return PolicyDecisionMade(
        decision_id="d-metal",
        decision_point="jobs.submit_to_production",
        subject="job-9",
        outcome="notify",
        matched=[
            MatchedRuleSummary(
                policy="special_trades",
                rule="route-to-trade-manager",
                outcome="notify",
                enforced=True,
                reason="Metal jobs are coordinated by the metal trade manager.",
                to="trade_manager",
            )
        ],
        policies=[],
        facts={},
        source="POST /jobs/{job_id}/handoff",
    )


async def test_a_decision_reaches_the_trade_manager_by_email_once(
    messaging: Service[MessagingDeps], smtp: SmtpServer
) -> None:
    inbox = smtp
    deps = messaging.deps
    tina = Person(user_id="tina", name="Tina", email="tina@acme.example", roles=("trade_manager",))
    await notifications.put_person(deps, "acme", tina)
    settings = messaging.platform.settings
    event = encode_event(
        metal_handoff(),
        source="jobs",
        subject="job-9",
        tenant_id="acme",
        max_bytes=settings.max_message_bytes,
    )
    async with raw_producer(settings.kafka_bootstrap_servers) as producer:
        await send_envelope(producer, settings.topic("jobs"), event)

    await eventually(lambda: asyncio.sleep(0, inbox.messages or None), timeout=60, what="the email")
    (message,) = inbox.messages
    assert message["To"] == "tina@acme.example"
    assert message["Subject"] == "[Roofline] Notify: jobs.submit_to_production on job-9"
    assert "coordinated by the metal trade manager" in text_of(message)
    async with deps.unit_of_work("acme") as uow:
        (item,) = await uow.repos.notices.inbox_of("tina", unread_only=True)

    async def logged() -> list[str] | None:
        # The server has the email; the worker records "sent" a moment after its answer.
        async with deps.unit_of_work("acme") as uow:
            steps = [status for status, _, _ in await uow.repos.notices.email_log(item["item_id"])]
        return steps if steps[-1:] == ["sent"] else None

    assert await eventually(logged, timeout=30, what="the send recorded") == [
        "queued",
        "sending",
        "sent",
    ]
    assert message["Message-ID"] == f"<{item['item_id']}@roofline>"
    tina_caller = Caller(user_id="tina", tenant_id="acme", roles=frozenset({"trade_manager"}))
    assert await notifications.read_inbox_item(deps, tina_caller, item["item_id"])
    assert await notifications.inbox(deps, "acme", "tina", unread_only=True) == []
    assert not await notifications.read_inbox_item(deps, tina_caller, "no-such-item")


async def test_a_send_cut_off_after_acceptance_is_never_sent_twice(
    namespace: str, database_url: str, bootstrap_servers: str, smtp: SmtpServer
) -> None:
    """The worker's steps run here one by one (no service running): the claim commits, the
    server accepts the email, and the process dies before recording it."""
    inbox, port = smtp, smtp.port
    settings = settings_for(
        "messaging", f"{namespace}crash", database_url, bootstrap_servers, smtp_port=port
    )
    service = messaging_app.build(settings)
    await prepare_schema(service.platform)
    deps = service.deps
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    deps.clock = lambda: now
    try:
        tom = Person(user_id="tom", name="Tom", email="tom@acme.example", roles=("trade_manager",))
        await notifications.put_person(deps, "acme", tom)
        decision = metal_handoff()
        outgoing = encode_event(
            decision, source="jobs", subject="job-9", tenant_id="acme", max_bytes=1_000_000
        )
        async with deps.unit_of_work("acme") as uow:
            envelope = Envelope.from_bytes(outgoing.body, 1_000_000)
            await notifications.deliver_decision(deps, uow, envelope, decision)
            await uow.commit()

        async with deps.mail_queue() as queue:
            (claimed,) = await queue.claim_due(now, timedelta(seconds=settings.email_lease_s), 10)
        await SmtpMailer(settings, deps.links).send(
            claimed
        )  # accepted ... and the process dies here

        # Restarted, past the lease: the send is held in doubt, not sent again.
        later = now + timedelta(seconds=settings.email_lease_s + 1)
        deps.clock = lambda: later
        assert await email_worker.send_due(deps) == 0
        assert await email_worker.send_due(deps) == 0
        assert len(inbox.messages) == 1
        async with deps.unit_of_work("acme") as uow:
            log = await uow.repos.notices.email_log(claimed.email_id)
        assert [status for status, _, _ in log] == ["queued", "sending", "in_doubt"]

        # An operator decides to send it again (it may arrive twice: their call).
        caller = Caller(user_id="pat", tenant_id="acme", roles=frozenset({"production_manager"}))
        assert await notifications.requeue_email(deps, caller, claimed.email_id) == "queued"
        assert await email_worker.send_due(deps) == 1
        assert len(inbox.messages) == 2
        assert await notifications.requeue_email(deps, caller, claimed.email_id) == "sent"
        other = Caller(user_id="gina", tenant_id="globex", roles=frozenset({"production_manager"}))
        assert await notifications.requeue_email(deps, other, claimed.email_id) is None
    finally:
        await drop_schema(service.platform.engine, settings.schema_name)
        await service.platform.engine.dispose()


async def test_a_server_that_is_down_defers_and_a_refusal_fails(
    namespace: str, database_url: str, bootstrap_servers: str, smtp: SmtpServer
) -> None:
    settings = settings_for(
        "messaging", f"{namespace}down", database_url, bootstrap_servers, smtp_port=free_port()
    )
    service = messaging_app.build(settings)
    await prepare_schema(service.platform)
    deps = service.deps
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    deps.clock = lambda: now
    try:
        ann = Person(user_id="ann", name="Ann", email="ann@acme.example", roles=("trade_manager",))
        await notifications.put_person(deps, "acme", ann)
        decision = metal_handoff()
        outgoing = encode_event(
            decision, source="jobs", subject="job-9", tenant_id="acme", max_bytes=1_000_000
        )
        async with deps.unit_of_work("acme") as uow:
            await notifications.deliver_decision(
                deps, uow, Envelope.from_bytes(outgoing.body, 1_000_000), decision
            )
            (item,) = await uow.repos.notices.inbox_of("ann", unread_only=True)
            await uow.commit()
        assert await email_worker.send_due(deps) == 0  # nobody listens on that port
        assert await email_worker.send_due(deps) == 0  # not due again before its backoff
        deps.clock = lambda: now + timedelta(seconds=settings.email_retry_backoff_s)
        deps.mailer = SmtpMailer(settings.model_copy(update={"smtp_port": smtp.port}), deps.links)
        assert await email_worker.send_due(deps) == 1
        async with deps.unit_of_work("acme") as uow:
            log = await uow.repos.notices.email_log(item["item_id"])
        assert [status for status, _, _ in log] == [
            "queued",
            "sending",
            "deferred",
            "sending",
            "sent",
        ]
    finally:
        await drop_schema(service.platform.engine, settings.schema_name)
        await service.platform.engine.dispose()
