"""``roofline up``: the embedded default servers and the five services, supervised.

Start order: PostgreSQL, broker, the local SMTP sink (unless ROOFLINE_SMTP_HOST/_PORT name a
server), the fake lender (unless ROOFLINE_LENDER_URL names one), topics (before any client
connects), migrations, services (one uvicorn process each, own port), then wait for every
``/health/ready``. A service that dies is reported and restarted with backoff. If the embedded
broker dies it has lost its log: services are stopped, the broker restarted, topics recreated,
every outbox replayed since the broker's start, services started again (see README, "When the
broker loses its log"). Ctrl-C or SIGTERM stops services first, then the servers (the SMTP sink
and the fake lender with them), and leaves no process or port behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx

from shared.cli.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, port_open
from shared.cli.fake_lender import FakeLender
from shared.cli.kafka_cluster import KafkaCluster
from shared.cli.mail_sink import MailSink, count_mailbox
from shared.cli.suites import (
    STATE_FILE,
    locate,
    not_found_message,
    read_state,
    register,
    unregister,
)
from shared.platform.messaging.broker import all_topics, ensure_topics
from shared.platform.messaging.relay import replay_outbox
from shared.platform.settings import SERVICES, Settings, load_settings
from shared.platform.storage.migrations import migrate

DATABASE = "roofline"
# tansu: the embedded, memory-only default; kafka: a local Apache Kafka cluster (KRaft).
BROKERS = ("tansu", "kafka")
READY_TIMEOUT_S = 90.0
MAX_REPLICAS = 8
STEPS = 6  # the "[n/6]" of start_servers, migrate and start_services
# Any of these set: the services hand email to that server, and no local sink starts.
SMTP_VARIABLES = (
    "ROOFLINE_SMTP_HOST",
    "ROOFLINE_SMTP_PORT",
    "ROOFLINE_MESSAGING__SMTP_HOST",
    "ROOFLINE_MESSAGING__SMTP_PORT",
)


def say(message: str) -> None:
    print(message, flush=True)


def step(number: int, message: str) -> None:
    say(f"[{number}/{STEPS}] {message}")


def parse_replicas(values: list[str]) -> dict[str, int]:
    """``["jobs=3", "tickets=2"]`` -> ``{"jobs": 3, "tickets": 2}``; a clear error names what is
    wrong (the service, the count, the form)."""
    replicas: dict[str, int] = {}
    for value in values:
        name, equals, count = value.partition("=")
        if not equals or not count.strip().isdigit():
            raise ValueError(f"--replicas takes SERVICE=N (e.g. jobs=3), not {value!r}")
        if name not in SERVICES:
            raise ValueError(f"--replicas: unknown service {name!r}; one of {', '.join(SERVICES)}")
        if not 1 <= int(count) <= MAX_REPLICAS:
            raise ValueError(f"--replicas {name}: N must be 1 to {MAX_REPLICAS}, not {count}")
        replicas[name] = int(count)
    return replicas


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    replica: int = 1
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        """``jobs``, and ``jobs#2``, ``jobs#3`` for the other replicas of a scaled-out service."""
        return self.name if self.replica == 1 else f"{self.name}#{self.replica}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    f"services.{self.name}.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Supervisor:
    def __init__(
        self,
        root: Path,
        settings: Settings,
        *,
        database_url: str | None = None,
        bootstrap: str | None = None,
        broker: str = "tansu",
        brokers: int = 3,
        replicas: dict[str, int] | None = None,
    ) -> None:
        if broker not in BROKERS:
            raise ValueError(f"--broker must be one of {', '.join(BROKERS)}, not {broker!r}")
        self.root = root
        self.settings = settings
        self.broker_kind = broker
        self.broker_count = brokers
        # Processes per service, each a member of the service's one consumer group.
        self.replicas = {name: 1 for name in SERVICES} | (replicas or {})
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.cluster: KafkaCluster | None = None
        self.mail_sink: MailSink | None = None
        self.lender: FakeLender | None = None
        self.services: list[ServiceProcess] = []
        self.database_url = database_url or settings.database_url
        self.bootstrap = bootstrap or settings.kafka_bootstrap_servers
        self.broker_started_at = datetime.now(UTC)
        self.stopping = threading.Event()

    # -- servers --------------------------------------------------------------------------------

    def start_servers(self) -> None:
        if "ROOFLINE_DATABASE_URL" in os.environ:
            step(1, "PostgreSQL: using ROOFLINE_DATABASE_URL")
        else:
            step(1, f"PostgreSQL: starting embedded server (data in {self.root / 'postgres'})")
            self.postgres = EmbeddedPostgres(self.root / "postgres").start()
            self.postgres.create_database(DATABASE)
            self.database_url = self.postgres.url(DATABASE)
        if "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS" in os.environ:
            step(2, f"Kafka: using {self.bootstrap}")
        elif self.broker_kind == "kafka":
            step(
                2,
                f"Kafka: starting a local Apache Kafka cluster, {self.broker_count} "
                f"broker(s) (jars cached in {self.root / 'cache'}; the first start fetches them)",
            )
            self.cluster = KafkaCluster(
                self.root / "kafka", brokers=self.broker_count, cache=self.root / "cache"
            ).start()
            self.bootstrap = self.cluster.bootstrap_servers
        else:
            step(2, "Kafka: starting the embedded Tansu broker (memory-only)")
            self.broker = EmbeddedBroker(log_file=self.root / "broker.log").start()
            self.bootstrap = self.broker.bootstrap_servers
            self.broker_started_at = datetime.now(UTC)
        self.start_mail()
        self.start_lender()
        self.create_topics()

    def start_mail(self) -> None:
        """The local SMTP sink the services hand email to (``roofline mail`` lists what it
        kept), unless the environment names an SMTP server."""
        if any(variable in os.environ for variable in SMTP_VARIABLES):
            step(3, f"Mail: using ROOFLINE_SMTP_* ({self.smtp_address()})")
            return
        self.mail_sink = MailSink(self.root / "mail").start()
        step(
            3,
            f"Mail: local SMTP sink on {self.mail_sink.address} (email kept in "
            f"{self.mail_sink.folder}; `roofline mail` lists it)",
        )

    def start_lender(self) -> None:
        """The fake lender billing's financing calls (shared/cli/fake_lender.py), unless the
        environment names a lender."""
        if any(v in os.environ for v in ("ROOFLINE_LENDER_URL", "ROOFLINE_BILLING__LENDER_URL")):
            return
        self.lender = FakeLender().start()
        say(f"      Lender: fake lender on {self.lender.url} (amounts up to $25,000 qualify)")

    def smtp_address(self) -> str:
        """Where the services hand email: the sink, else what configures the messaging service."""
        if self.mail_sink is not None:
            return self.mail_sink.address
        settings = load_settings("messaging")
        return f"{settings.smtp_host}:{settings.smtp_port}"

    def create_topics(self) -> None:
        replication = self.settings.topic_replication_factor
        min_insync = self.settings.topic_min_insync_replicas
        if self.cluster is not None:  # production settings on the local cluster
            replication = self.cluster.replication_factor
            min_insync = self.cluster.min_insync_replicas
        step(
            4,
            f"Topics: {self.settings.topic_partitions} partitions each, {replication} "
            "replica(s), created up front",
        )
        asyncio.run(
            ensure_topics(
                self.bootstrap,
                all_topics(self.settings),
                self.settings.topic_partitions,
                replication_factor=replication,
                min_insync_replicas=min_insync,
            )
        )

    def service_settings(self, name: str) -> Settings:
        return load_settings(
            name,
            database_url=self.database_url,
            kafka_bootstrap_servers=self.bootstrap,
            kafka_enable_idempotence=self.kafka_idempotence,
        )

    @property
    def kafka_idempotence(self) -> bool:
        # The embedded broker rejects the idempotent producer.
        return self.broker is None and self.settings.kafka_enable_idempotence

    def migrate(self) -> None:
        step(5, "Migrations: each service's schema to head")
        for name in SERVICES:
            migrate(self.service_settings(name), f"services.{name}")

    # -- services -------------------------------------------------------------------------------

    def start_services(self) -> None:
        processes = sum(self.replicas.values())
        step(6, f"Services: starting {processes} processes")
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        if not self.services:
            self.warn_idle_replicas()
            env = self.service_env()
            for name in SERVICES:
                for replica in range(1, self.replicas[name] + 1):
                    log = logs / (f"{name}.log" if replica == 1 else f"{name}-{replica}.log")
                    port = free_port()
                    # Links in messaging's emails (surveys, the open pixel) point at it.
                    own = {"ROOFLINE_PUBLIC_URL": f"http://127.0.0.1:{port}"} | env
                    self.services.append(ServiceProcess(name, port, own, log, replica))
        for service in self.services:
            service.start()
        self.write_state()

    def service_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "ROOFLINE_DATABASE_URL": self.database_url,
                "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "ROOFLINE_KAFKA_ENABLE_IDEMPOTENCE": str(self.kafka_idempotence).lower(),
                # The topics this supervisor created are the ones the services use.
                "ROOFLINE_TOPIC_PREFIX": self.settings.topic_prefix,
                "ROOFLINE_TOPIC_PARTITIONS": str(self.settings.topic_partitions),
            }
        )
        if self.mail_sink is not None:
            env.update(
                {
                    "ROOFLINE_SMTP_HOST": self.mail_sink.host,
                    "ROOFLINE_SMTP_PORT": str(self.mail_sink.port),
                    "ROOFLINE_SMTP_STARTTLS": "false",  # the sink offers neither TLS nor AUTH
                }
            )
            env.pop("ROOFLINE_SMTP_USERNAME", None)
            env.pop("ROOFLINE_SMTP_PASSWORD", None)
        if self.lender is not None:
            env["ROOFLINE_LENDER_URL"] = self.lender.url
            env["ROOFLINE_LENDER_API_KEY"] = self.lender.api_key
        if self.broker is not None and "ROOFLINE_CONSUMER_FETCH_MAX_WAIT_MS" not in env:
            env["ROOFLINE_CONSUMER_FETCH_MAX_WAIT_MS"] = str(
                EmbeddedBroker.CONSUMER_FETCH_MAX_WAIT_MS
            )
        return env

    def warn_idle_replicas(self) -> None:
        """A partition goes to one member of a group: replicas beyond the partition count of
        the topics a service reads get none and only stand by (and serve HTTP)."""
        partitions = self.settings.topic_partitions
        for name, count in self.replicas.items():
            if count > partitions:
                say(
                    f"      note: {name} has {count} replicas but its topics {partitions} "
                    f"partitions; {count - partitions} will stand by with none "
                    "(ROOFLINE_TOPIC_PARTITIONS sets the count for new topics)"
                )

    def wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        pending = {service.label for service in self.services}
        while pending and time.monotonic() < deadline and not self.stopping.is_set():
            for service in self.services:
                if service.label in pending and _ready(service.url):
                    pending.discard(service.label)
                    say(f"      {service.label} ready")
                if service.label in pending and not service.alive:
                    say(f"      {service.label} exited during start; see {service.log_path}")
                    return False
            time.sleep(0.3)
        if pending:
            say(f"      not ready after {READY_TIMEOUT_S:.0f}s: {', '.join(sorted(pending))}")
        return not pending

    def stop_services(self) -> None:
        for service in self.services:
            service.stop()

    def watch(self) -> None:
        """Until Ctrl-C: restart dead services with backoff; recover from broker loss."""
        while not self.stopping.wait(1.0):
            if self.broker is not None and not self.broker.running:
                self.recover_broker()
                continue
            now = time.monotonic()
            for service in self.services:
                if service.alive and service.restarts and now - service.started_at > 60:
                    service.restarts = 0  # stable again: the next crash starts the backoff over
                if service.alive or now < service.next_start:
                    continue
                if service.process is not None:
                    code = service.process.returncode
                    say(f"! {service.label} exited (code {code}); restarting ({service.log_path})")
                    service.process = None
                    service.restarts += 1
                    service.next_start = now + min(2**service.restarts, 30)
                    continue
                service.start()
                self.write_state()
                say(f"  {service.label} restarted (attempt {service.restarts})")

    def recover_broker(self) -> None:
        assert self.broker is not None
        say("! broker exited and lost its log: stopping services, restarting it, replaying")
        lost_since = self.broker_started_at
        self.stop_services()
        self.broker.start()
        self.broker_started_at = datetime.now(UTC)
        self.create_topics()
        for name in SERVICES:
            count = asyncio.run(replay_outbox(self.service_settings(name), lost_since))
            say(f"      {name}: {count} event(s) queued again")
        self.start_services()
        self.wait_ready()

    # -- state for `roofline status` ------------------------------------------------------------

    def write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "data_dir": str(self.root),
            "topic_prefix": self.settings.topic_prefix,
            "kafka_bootstrap_servers": self.bootstrap,
            "broker": self.broker_description(),
            "database_url": _without_secret(self.database_url),
            "mail": self.mail_description(),
            "services": [
                {
                    "name": s.name,
                    "replica": s.replica,
                    "url": s.url,
                    "pid": s.process.pid if s.process else None,
                }
                for s in self.services
            ],
        }
        (self.root / STATE_FILE).write_text(json.dumps(state, indent=2))

    def broker_description(self) -> dict[str, object]:
        if self.cluster is not None:
            return {
                "kind": "kafka",
                "brokers": [
                    {
                        "node_id": node.node_id,
                        "address": node.address,
                        "pid": node.process.pid if node.process else None,
                    }
                    for node in self.cluster.nodes
                ],
            }
        if self.broker is not None:
            return {
                "kind": "tansu",
                "brokers": [
                    {
                        "node_id": 0,
                        "address": self.broker.bootstrap_servers,
                        "pid": self.broker.process.pid if self.broker.process else None,
                    }
                ],
            }
        return {"kind": "external", "brokers": []}

    def mail_description(self) -> dict[str, object]:
        if self.mail_sink is not None:
            return {
                "kind": "sink",
                "smtp": self.mail_sink.address,
                "folder": str(self.mail_sink.folder),
            }
        return {"kind": "external", "smtp": self.smtp_address()}

    def shutdown(self) -> None:
        say("Stopping services ...")
        self.stop_services()
        if self.mail_sink is not None:
            self.mail_sink.stop()
        if self.lender is not None:
            self.lender.stop()
        if self.cluster is not None:
            self.cluster.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()
        (self.root / STATE_FILE).unlink(missing_ok=True)
        say("Stopped.")


def _without_secret(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def data_root(data_dir: str | None) -> Path:
    settings = load_settings()
    return Path(data_dir or os.environ.get("ROOFLINE_DATA_DIR") or settings.data_dir).resolve()


def suite_root(data_dir: str | None) -> Path:
    """The data directory of the running suite a command means (``shared.cli.suites.locate``):
    the one given, else the default if a suite runs there, else the single registered one.
    Raises SuiteChoiceNeeded when several run."""
    return locate(data_dir, data_root(None))


def run_up(
    data_dir: str | None,
    *,
    broker: str = "tansu",
    brokers: int = 3,
    replicas: dict[str, int] | None = None,
) -> int:
    root = data_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(
        root, load_settings(), broker=broker, brokers=brokers, replicas=replicas
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: supervisor.stopping.set())
    started = time.monotonic()
    entry = register(root)  # so commands run elsewhere find this suite
    try:
        supervisor.start_servers()
        supervisor.migrate()
        supervisor.start_services()
        if not supervisor.wait_ready():
            return 1
        say(
            f"\nRoofline is up in {time.monotonic() - started:.1f}s "
            f"(data in {root}, logs in {root / 'logs'})\n"
        )
        say(f"  {'service':<12} {'url':<24} docs / metrics / asyncapi")
        for service in supervisor.services:
            say(
                f"  {service.label:<12} {service.url:<24} {service.url}/docs  /metrics  "
                "/asyncapi.json"
            )
        say(f"\n  kafka     {supervisor.bootstrap}")
        say(f"  database  {_without_secret(supervisor.database_url)}")
        if supervisor.mail_sink is not None:
            say(f"  mail      {supervisor.smtp_address()}  (local sink: `roofline mail` lists it)")
        else:
            say(f"  mail      {supervisor.smtp_address()}  (ROOFLINE_SMTP_*)")
        if supervisor.lender is not None:
            say(f"  lender    {supervisor.lender.url}  (fake: financing applications)")
        say("\nPress Ctrl-C to stop.")
        supervisor.watch()
        return 0
    finally:
        try:
            supervisor.shutdown()
        finally:
            unregister(entry)


def status(data_dir: str | None) -> tuple[int, dict[str, object]]:
    """(exit code, report): 0 only when all five services answer ready. The suite is found as
    ``suite_root`` says (SuiteChoiceNeeded when several run and none is chosen)."""
    root = suite_root(data_dir)
    state = read_state(root)
    if state is None:
        message = not_found_message(data_dir, root)
        return 1, {"running": False, "data_dir": str(root), "services": [], "message": message}
    state.setdefault("data_dir", str(root))
    services = []
    for service in state["services"]:  # type: ignore[attr-defined]
        port = int(service["url"].rsplit(":", 1)[1])
        ready = _ready(service["url"]) if port_open("127.0.0.1", port) else False
        services.append({**service, "state": "ready" if ready else "down"})
    state["services"] = services
    broker = cast(dict[str, Any], state.get("broker") or {"kind": "external", "brokers": []})
    for node in broker["brokers"]:
        host, node_port = str(node["address"]).rsplit(":", 1)
        node["state"] = "running" if port_open(host, int(node_port)) else "down"
    state["broker"] = broker
    mail = state.get("mail")
    if isinstance(mail, dict):
        host, smtp_port = str(mail["smtp"]).rsplit(":", 1)
        mail["state"] = "running" if port_open(host, int(smtp_port)) else "down"
        if mail.get("kind") == "sink":
            mail["emails"] = count_mailbox(Path(mail["folder"]))
    state["running"] = True
    ok = {s["name"] for s in services} == set(SERVICES) and all(
        s["state"] == "ready" for s in services
    )
    return (0 if ok else 1), state


def cli_settings(service: str | None = None, data_dir: str | None = None) -> Settings:
    """Settings for a command run beside the suite: the database and broker of a running
    ``roofline up`` (its state file), unless ROOFLINE_DATABASE_URL /
    ROOFLINE_KAFKA_BOOTSTRAP_SERVERS name others."""
    overrides: dict[str, str] = {}
    wanted = [
        key
        for key, variable in (
            ("database_url", "ROOFLINE_DATABASE_URL"),
            ("kafka_bootstrap_servers", "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS"),
        )
        if variable not in os.environ
    ]
    running = read_state(suite_root(data_dir)) if wanted else None
    if running is not None:
        overrides = {key: str(running[key]) for key in wanted}
    return load_settings(service, **overrides)


def suite_running(data_dir: str | None = None) -> bool:
    """Whether a command beside the suite finds one (``suite_root``)."""
    return read_state(suite_root(data_dir)) is not None
