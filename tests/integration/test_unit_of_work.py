"""The unit of work commits state and events together, or neither."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.platform.messaging.envelope import MessageTooLarge
from tests.support.harness import prepare_schema, settings_for
from tests.support.tally import Counters, Incremented, increment, tally_platform


@pytest.fixture
async def platform(namespace: str, database_url: str, bootstrap_servers: str):
    platform = tally_platform(settings_for("tally", namespace, database_url, bootstrap_servers))
    await prepare_schema(platform)
    yield platform
    async with platform.engine.begin() as conn:
        await conn.execute(sa.delete(platform.tables.outbox))
        await conn.execute(sa.text("DELETE FROM counters"))
    await platform.engine.dispose()


async def count(platform, table: str) -> int:
    async with platform.engine.connect() as conn:
        return int(await conn.scalar(sa.text(f"SELECT count(*) FROM {table}")))


async def test_commit_writes_state_and_outbox_in_order(platform) -> None:
    for _ in range(3):
        await increment(platform.uow_factory, "acme", "c1", 2)
    async with platform.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT key, payload FROM outbox ORDER BY id"))).all()
    assert [row.key for row in rows] == ["c1"] * 3
    assert [b'"seq":%d' % n in row.payload for n, row in enumerate(rows, 1)] == [True] * 3
    assert await count(platform, "counters") == 1


async def test_failure_before_commit_leaves_nothing(platform) -> None:
    with pytest.raises(RuntimeError):
        async with platform.uow_factory() as uow:
            await Counters(uow.connection, "acme").bump("c1", 1)
            uow.record(
                Incremented(counter_id="c1", amount=1, seq=1), subject="c1", tenant_id="acme"
            )
            # A driver-level statement must be inside the same transaction, not autocommitted.
            driver = await uow.driver_connection()
            await driver.execute("INSERT INTO counters VALUES ('acme', 'c2', 1, 1)")
            raise RuntimeError("handler failed after its writes")
    assert await count(platform, "counters") == 0
    assert await count(platform, "outbox") == 0


async def test_driver_only_work_rolls_back_too(platform) -> None:
    # The consumer's path: the inbox insert is the transaction's first (driver-level)
    # statement and the handler fails before SQLAlchemy runs anything.
    with pytest.raises(RuntimeError):
        async with platform.uow_factory() as uow:
            driver = await uow.driver_connection()
            await driver.execute("INSERT INTO counters VALUES ('acme', 'c3', 1, 1)")
            raise RuntimeError("handler failed")
    assert await count(platform, "counters") == 0


async def test_oversized_event_fails_the_command_not_the_relay(platform) -> None:
    settings = platform.settings.model_copy(update={"max_message_bytes": 1024})
    with pytest.raises(MessageTooLarge):
        async with platform.uow_factory.__class__(
            platform.engine, platform.tables, settings
        )() as uow:
            uow.record(
                Incremented(counter_id="c" * 2000, amount=1, seq=1), subject="c1", tenant_id="acme"
            )
    assert await count(platform, "outbox") == 0
