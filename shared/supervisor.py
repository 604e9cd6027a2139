"""``roofline up``: the embedded default servers (and, as they land, the five services)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

from shared.broker import all_topics, ensure_topics
from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.settings import load_settings

DATABASE = "roofline"


def _say(message: str) -> None:
    print(message, flush=True)


def run_up(data_dir: str | None) -> int:
    settings = load_settings()
    root = Path(data_dir or os.environ.get("ROOFLINE_DATA_DIR") or settings.data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    external_db = "ROOFLINE_DATABASE_URL" in os.environ
    external_kafka = "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS" in os.environ

    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        started = time.monotonic()
        if external_db:
            database_url = settings.database_url
            _say("[1/3] PostgreSQL: using ROOFLINE_DATABASE_URL")
        else:
            _say(f"[1/3] PostgreSQL: starting embedded server (data in {root / 'postgres'}) ...")
            postgres = EmbeddedPostgres(root / "postgres").start()
            postgres.create_database(DATABASE)
            database_url = postgres.url(DATABASE)
        if external_kafka:
            bootstrap = settings.kafka_bootstrap_servers
            _say(f"[2/3] Kafka: using {bootstrap}")
        else:
            _say("[2/3] Kafka: starting embedded Tansu broker (memory-only) ...")
            broker = EmbeddedBroker(log_file=root / "broker.log").start()
            bootstrap = broker.bootstrap_servers
        _say(f"[3/3] Topics: creating {settings.topic_partitions}-partition topics ...")
        result = asyncio.run(
            ensure_topics(bootstrap, all_topics(settings), settings.topic_partitions)
        )
        for topic, state in result.items():
            _say(f"      {topic}: {state}")
        safe_url = database_url.split("@")[-1]
        _say(f"\nReady in {time.monotonic() - started:.1f}s")
        _say(f"  database  postgresql://…@{safe_url}")
        _say(f"  kafka     {bootstrap}")
        _say("Press Ctrl-C to stop.")
        while not stop.wait(1.0):
            if broker is not None and not broker.running:
                _say("broker exited; restarting and recreating topics")
                broker.start()
                asyncio.run(
                    ensure_topics(bootstrap, all_topics(settings), settings.topic_partitions)
                )
        _say("\nStopping ...")
        return 0
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        sys.stdout.flush()
