"""The ``roofline`` CLI against real servers."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from shared.auth import decode_token
from shared.cli import app
from shared.settings import load_settings
from tests.support.harness import prepare_schema, settings_for
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
    monkeypatch.setenv("ROOFLINE_TALLY__DB_SCHEMA", settings.schema)
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
