"""Session fixtures: real PostgreSQL and a real Kafka-protocol broker.

Both start from pip-installed packages on free 127.0.0.1 ports, unless
``ROOFLINE_TEST_DATABASE_URL`` / ``ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS`` name servers to use.
Each test module gets its own namespace: a fresh schema per service and unique topic names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from shared.cli.embedded import EmbeddedBroker, EmbeddedPostgres


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres | None]:
    """The embedded server, or None when the environment names an external one."""
    if os.environ.get("ROOFLINE_TEST_DATABASE_URL"):
        yield None
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data", durable=False).start()
    yield server
    server.stop(mode="immediate")


@pytest.fixture(scope="session")
def database_url(postgres_server: EmbeddedPostgres | None) -> str:
    return os.environ.get("ROOFLINE_TEST_DATABASE_URL") or postgres_server.url()  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker | None]:
    if os.environ.get("ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    broker = EmbeddedBroker(log_file=tmp_path_factory.mktemp("tansu") / "broker.log").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def bootstrap_servers(kafka_broker: EmbeddedBroker | None) -> str:
    return (
        os.environ.get("ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS") or kafka_broker.bootstrap_servers  # type: ignore[union-attr]
    )


@pytest.fixture(scope="module")
def namespace() -> str:
    """Unique per test module: the topic prefix and the prefix of every schema it creates."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", autouse=True)
def suite_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' own registry of running suites (``shared.cli.suites``): a `roofline up` the tests
    start is not seen by the developer's commands, and theirs is not seen by the tests."""
    previous = os.environ.get("ROOFLINE_REGISTRY_DIR")
    os.environ["ROOFLINE_REGISTRY_DIR"] = str(tmp_path_factory.mktemp("registry"))
    yield
    if previous is None:
        os.environ.pop("ROOFLINE_REGISTRY_DIR", None)
    else:
        os.environ["ROOFLINE_REGISTRY_DIR"] = previous
