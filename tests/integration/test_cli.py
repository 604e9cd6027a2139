"""The ``roofline`` CLI against real servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from shared.cli.app import app
from shared.contracts.billing import FinanceFolderOpened
from shared.contracts.jobs import LeadCreated
from shared.platform.http.auth import decode_token
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import load_settings
from tests.support.harness import (
    create_topics,
    prepare_schema,
    raw_producer,
    send_envelope,
    settings_for,
)
from tests.support.tally import increment, tally_platform

runner = CliRunner()


def test_token_mints_a_token_the_services_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOFLINE_JWT_SECRET", "a-test-secret-that-is-long-enough-for-hs256")
    result = runner.invoke(
        app, ["token", "--user", "ann", "--tenant", "acme", "--role", "csa", "--role", "production"]
    )
    assert result.exit_code == 0, result.output
    caller = decode_token(load_settings(), result.output.strip())
    assert (caller.user_id, caller.tenant_id, caller.roles) == (
        "ann",
        "acme",
        {"csa", "production"},
    )


def test_token_refuses_an_unknown_role() -> None:
    result = runner.invoke(app, ["token", "--user", "ann", "--tenant", "acme", "--role", "boss"])
    assert result.exit_code != 0
    assert "unknown role" in result.output


async def test_outbox_replay_requeues_sent_rows(
    namespace: str, database_url: str, bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("tally", namespace, database_url, bootstrap_servers)
    platform = tally_platform(settings)
    await prepare_schema(platform)
    for _ in range(3):
        await increment(platform.uow_factory, "acme", "c1", 1)
    outbox = platform.tables.outbox
    async with platform.engine.begin() as conn:
        await conn.execute(sa.update(outbox).values(sent_at=sa.func.now()))

    monkeypatch.setenv("ROOFLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("ROOFLINE_TALLY__DB_SCHEMA", settings.schema_name)
    result = await asyncio.to_thread(
        runner.invoke, app, ["outbox", "replay", "--service", "tally", "--since", "1h"]
    )
    assert result.exit_code == 0, result.output
    assert "3 event(s) queued" in result.output
    async with platform.engine.connect() as conn:
        unsent = await conn.scalar(sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None)))
    assert unsent == 3

    wrong = await asyncio.to_thread(
        runner.invoke, app, ["outbox", "replay", "--service", "biling", "--since", "1h"]
    )
    assert wrong.exit_code == 2
    assert "no outbox table" in wrong.output
    await platform.engine.dispose()


async def test_events_from_the_beginning_come_in_the_order_they_happened(
    namespace: str, bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Billing's answer sits on its own topic, published before the lead that caused it reached
    the jobs topic: the watcher still shows the lead first (merged by the events' time)."""
    settings = load_settings(topic_prefix=namespace, kafka_bootstrap_servers=bootstrap_servers)
    await create_topics(settings, "jobs", "billing")
    leads = [
        encode_event(
            LeadCreated(
                job_id=f"j{n}",
                customer_name="Dana",
                property_address="12 Elm St",
                salesman_id="sam",
            ),
            source="jobs",
            subject=f"j{n}",
            tenant_id="acme",
            max_bytes=settings.max_message_bytes,
        )
        for n in range(3)
    ]
    folders = [
        encode_event(
            FinanceFolderOpened(job_id=f"j{n}"),
            source="billing",
            subject=f"j{n}",
            tenant_id="acme",
            causation_id=str(leads[n].id),
            max_bytes=settings.max_message_bytes,
        )
        for n in range(3)
    ]
    async with raw_producer(bootstrap_servers) as producer:
        for envelope in folders + leads:  # the effects reach the broker first
            await send_envelope(producer, settings.topic(envelope.source), envelope)

    monkeypatch.setenv("ROOFLINE_KAFKA_BOOTSTRAP_SERVERS", bootstrap_servers)
    monkeypatch.setenv("ROOFLINE_TOPIC_PREFIX", namespace)
    result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["events", "--from-beginning", "--limit", "6", "--service", "billing", "--service", "jobs"],
    )
    assert result.exit_code == 0, result.output
    shown = [(line.split()[1], line.split()[2]) for line in result.output.splitlines()]
    expected = []
    for n in range(3):
        expected += [("jobs.lead_created.v1", f"j{n}")]
    for n in range(3):
        expected += [("billing.finance_folder_opened.v1", f"j{n}")]
    assert shown == expected


def test_events_without_a_running_suite_says_how_commands_find_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOFLINE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("ROOFLINE_DATA_DIR", raising=False)
    monkeypatch.setenv("ROOFLINE_REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["events"])
    assert result.exit_code == 1
    assert "roofline is not running" in result.output
    assert "--data-dir" in result.output
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 1 and "registry of running suites" in status.output
