"""Run a service of the tally suite as its own process:
``python -m tests.support.view_process PORT [tally|tallyview]`` (tallyview by default).

Settings come from the environment (``ROOFLINE_*``), like a real service; tallyview's source
topic from ``TALLY_SOURCE_TOPIC``. Serves /metrics and /health on 127.0.0.1:PORT. A tally process
runs the outbox relay (what the relay tests kill); a tallyview process consumes in its group.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from shared.platform.logging import configure_logging
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings, load_settings
from tests.support.tally import tally_platform, view_platform

ROOT = Path(__file__).resolve().parents[2]


def spawn(
    settings: Settings,
    source: str,
    port: int,
    *,
    service: str = "tallyview",
    extra_env: Mapping[str, str] | None = None,
    stdout: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start one process of ``service`` with ``settings`` (tallyview's group is the service's);
    ``extra_env`` adds to, or overrides, the environment it is given (``ROOFLINE_*`` settings);
    ``stdout`` (its log) as Popen takes it, e.g. ``subprocess.DEVNULL``."""
    env = dict(os.environ)
    env.update(
        {
            "ROOFLINE_DATABASE_URL": settings.database_url,
            "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "ROOFLINE_TOPIC_PREFIX": settings.topic_prefix,
            f"ROOFLINE_{service.upper()}__DB_SCHEMA": settings.schema_name,
            "ROOFLINE_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "ROOFLINE_CONSUMER_MAX_RECORDS": "250",
            "ROOFLINE_KAFKA_ENABLE_IDEMPOTENCE": str(settings.kafka_enable_idempotence).lower(),
            "TALLY_SOURCE_TOPIC": source,
            **(extra_env or {}),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.view_process", str(port), service],
        cwd=ROOT,
        env=env,
        stdout=stdout,
    )


def platform_for(service: str, settings: Settings) -> ServicePlatform:
    if service == "tally":
        return tally_platform(settings)
    return view_platform(settings, os.environ["TALLY_SOURCE_TOPIC"])


def main() -> None:
    port = int(sys.argv[1])
    service = sys.argv[2] if len(sys.argv) > 2 else "tallyview"
    settings = load_settings(service)
    configure_logging(service, "WARNING")
    app = platform_for(service, settings).http_app(title=service, create_tables=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
