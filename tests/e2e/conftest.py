"""The five services as real processes against the test servers (session fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.cli.supervisor import Supervisor
from shared.platform.settings import load_settings


@pytest.fixture(scope="module")
def suite(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    bootstrap_servers: str,
    namespace: str,
) -> Iterator[dict[str, str]]:
    """Start the five services (migrated, on free ports) in a fresh topic/schema namespace;
    yield their base URLs by name."""
    root: Path = tmp_path_factory.mktemp("suite")
    settings = load_settings(topic_prefix=namespace, kafka_enable_idempotence=False)
    supervisor = Supervisor(root, settings, database_url=database_url, bootstrap=bootstrap_servers)
    supervisor.create_topics()
    supervisor.migrate()
    supervisor.start_services()
    try:
        assert supervisor.wait_ready(), "services did not become ready; see " + str(root / "logs")
        yield {service.name: service.url for service in supervisor.services}
    finally:
        supervisor.stop_services()
