"""``roofline events``: follow the services' event topics from the terminal."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from shared.settings import load_settings


def bootstrap_servers(data_dir: str | None) -> str:
    """The running suite's broker (from `roofline up`'s state), else the configured one."""
    from shared.supervisor import STATE_FILE, data_root

    state = data_root(data_dir) / STATE_FILE
    if state.exists():
        return str(json.loads(state.read_text())["kafka_bootstrap_servers"])
    return load_settings().kafka_bootstrap_servers


def describe(value: bytes | None) -> str:
    try:
        event = json.loads(value or b"")
        return (
            f"{event['time'][:23]}  {event['type']:<36} {event['subject']}  "
            f"tenant={event['tenant_id']}  {json.dumps(event['data'], separators=(',', ':'))}"
        )
    except (ValueError, KeyError, TypeError):
        return f"(not an event envelope: {value!r:.120})"


async def watch_events(
    services: list[str],
    *,
    from_beginning: bool,
    limit: int,
    tenant: str | None = None,
    data_dir: str | None,
    echo: Callable[[str], None],
) -> int:
    settings = load_settings()
    consumer = AIOKafkaConsumer(
        *(settings.topic(name) for name in services),
        bootstrap_servers=bootstrap_servers(data_dir),
        group_id=None,  # a watcher never moves the services' offsets
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    seen = 0
    try:
        async for record in consumer:
            headers = {key: value.decode(errors="replace") for key, value in record.headers}
            if tenant and headers.get("ce_tenant_id") != tenant:
                continue
            echo(describe(record.value))
            seen += 1
            if limit and seen >= limit:
                break
    finally:
        await consumer.stop()
    return seen
