"""A local Apache Kafka cluster from Maven Central: N brokers in KRaft combined mode (each a broker
and a voter of the controller quorum) on free 127.0.0.1 ports, for ``roofline up --broker kafka``
and the cluster test tier.

The broker's jars come from ``deploy/kafka/pom.xml``: ``mvn dependency:copy-dependencies`` copies
them once into ``<cache>/kafka-<version>/lib`` and every later start reuses them. Each node's
storage is formatted with Kafka's own storage tool; each runs as ``java -cp <lib>/* kafka.Kafka``
with a bounded heap and its log under ``<root>/node-<id>/logs``. Readiness is asked of the cluster
through the Kafka protocol (every broker registered), never slept for.

Topics on it are made for production settings: replicated ``replication_factor`` ways with
``min.insync.replicas`` one less (at least 1), and no automatic topic creation.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.embedded import free_port, port_open

POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
HEAP = "-Xmx384m"
# On a small machine (the brokers, PostgreSQL and the services sharing a few cores), C1 only:
# C2 kept ~0.4 of a core busy compiling for minutes after start, measured on 2 cores. It costs
# more CPU per request once warm, so bigger machines keep the JVM's default.
JIT_OPTIONS = ("-XX:TieredStopAtLevel=1",) if (os.cpu_count() or 1) <= 4 else ()
READY_TIMEOUT_S = 90.0

LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class KafkaUnavailable(RuntimeError):
    """What the local cluster needs is missing (Java, Maven) or it did not come up."""


def kafka_version() -> str:
    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if found is None:
        raise KafkaUnavailable(f"{POM}: no <kafka.version> property")
    return found.group(1)


def require_tool(name: str, install: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise KafkaUnavailable(
            f"the local Apache Kafka cluster needs `{name}` on PATH; install it ({install}), or "
            "use the embedded broker (--broker tansu)"
        )
    return path


def fetch_kafka(cache: Path) -> Path:
    """The broker's jars, copied from Maven Central into ``cache`` once; their directory."""
    lib = cache / f"kafka-{kafka_version()}" / "lib"
    done = lib / ".complete"
    if done.exists():
        return lib
    mvn = require_tool("mvn", "Debian: apt-get install maven")
    require_tool("java", "Debian: apt-get install default-jre-headless")
    partial = lib.with_name("lib.partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise KafkaUnavailable(
            "mvn could not fetch Apache Kafka from Maven Central:\n"
            + (result.stdout + result.stderr)[-2000:]
        )
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    done.touch()
    return lib


class KafkaNode:
    """One broker-and-controller process of the cluster."""

    def __init__(self, node_id: int, root: Path, host: str) -> None:
        self.node_id = node_id
        self.dir = root / f"node-{node_id}"
        self.host = host
        self.port = free_port(host)
        self.controller_port = free_port(host)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def config(self) -> Path:
        return self.dir / "server.properties"

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    def write_config(self, voters: str, replication_factor: int) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        min_isr = max(1, replication_factor - 1)
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    f"controller.quorum.voters={voters}",
                    f"listeners=PLAINTEXT://{self.address},CONTROLLER://{self.host}:"
                    f"{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{self.address}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.dir / 'data'}",
                    f"default.replication.factor={replication_factor}",
                    f"min.insync.replicas={min_isr}",
                    f"offsets.topic.replication.factor={replication_factor}",
                    f"transaction.state.log.replication.factor={replication_factor}",
                    f"transaction.state.log.min.isr={min_isr}",
                    "auto.create.topics.enable=false",
                    # A local cluster: a group forms at once instead of waiting 3 s for members.
                    "group.initial.rebalance.delay.ms=0",
                    "",
                ]
            )
        )

    def java(self, lib: Path, main: str, *args: str) -> list[str]:
        return [
            "java",
            HEAP,
            "-XX:+UseSerialGC",  # a small heap on a small machine: no parallel GC threads
            *JIT_OPTIONS,
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={self.dir.parent / 'log4j2.properties'}",
            "-cp",
            f"{lib}/*",
            main,
            *args,
        ]

    def format(self, lib: Path, cluster_id: str) -> None:
        if (self.dir / "data" / "meta.properties").exists():
            return  # formatted before: a restart keeps the node's log
        # "--cluster-id=...": a base64 id may start with "-", which would read as an option.
        command = self.java(lib, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}")
        result = subprocess.run(
            [*command, "-c", str(self.config)], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise KafkaUnavailable(
                f"formatting node {self.node_id}'s storage failed:\n{result.stderr[-2000:]}"
            )

    def start(self, lib: Path) -> None:
        with open(self.log_dir / "stdout.log", "ab") as output:
            self.process = subprocess.Popen(
                self.java(lib, "kafka.Kafka", str(self.config)),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches the supervisor only
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)

    def stop(self, timeout: float = 30) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal(signal.SIGCONT)  # a paused node cannot shut down
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class KafkaCluster:
    """``brokers`` Apache Kafka nodes under ``root`` (KRaft combined mode)."""

    def __init__(
        self,
        root: Path,
        *,
        brokers: int = 3,
        cache: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if brokers < 1:
            raise ValueError("a cluster has at least one broker")
        self.root = Path(root).resolve()
        self.cache = Path(cache).resolve() if cache else self.root / "cache"
        self.nodes = [KafkaNode(node_id, self.root, host) for node_id in range(1, brokers + 1)]
        self.replication_factor = min(3, brokers)
        self.lib: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.address for node in self.nodes)

    @property
    def min_insync_replicas(self) -> int:
        return max(1, self.replication_factor - 1)

    def start(self) -> KafkaCluster:
        self.lib = fetch_kafka(self.cache)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "log4j2.properties").write_text(LOG4J2)
        voters = ",".join(
            f"{node.node_id}@{node.host}:{node.controller_port}" for node in self.nodes
        )
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        for node in self.nodes:
            node.write_config(voters, self.replication_factor)
            node.format(self.lib, cluster_id)
        for node in self.nodes:
            node.start(self.lib)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until every broker is registered with the cluster, as the Kafka protocol reports it."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            dead = [node.node_id for node in self.nodes if not node.running()]
            if dead:
                raise KafkaUnavailable(
                    f"Kafka node(s) {dead} exited; see {self.root}/node-*/logs/server.log"
                )
            if not all(port_open(node.host, node.port) for node in self.nodes):
                last = "not every broker listens yet"
                time.sleep(0.2)
                continue
            try:
                registered = asyncio.run(self.registered_brokers())
                if len(registered) == len(self.nodes):
                    return
                last = f"{len(registered)} of {len(self.nodes)} brokers registered"
            except Exception as exc:  # not listening yet
                last = repr(exc)
            time.sleep(0.5)
        raise KafkaUnavailable(
            f"the Kafka cluster was not ready within {timeout:.0f}s ({last}); "
            f"see {self.root}/node-*/logs/server.log"
        )

    async def registered_brokers(self) -> list[int]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000
        )
        await admin.start()
        try:
            description = await admin.describe_cluster()
            return sorted(broker["node_id"] for broker in description["brokers"])
        finally:
            await admin.close()

    def node(self, node_id: int) -> KafkaNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def restart(self, node: KafkaNode) -> None:
        """Start a stopped (or killed) node again on its own log, and wait for the cluster."""
        if self.lib is None:
            raise RuntimeError("the cluster was never started")
        node.stop()
        node.start(self.lib)
        self.wait_ready()

    def states(self) -> dict[int, str]:
        return {node.node_id: "running" if node.running() else "stopped" for node in self.nodes}

    def running(self) -> bool:
        return all(node.running() for node in self.nodes)

    def stop(self, *, graceful: bool = True) -> None:
        """Stop every node: shut down cleanly, or (``graceful=False``, for a throwaway cluster
        such as the tests') killed at once: the last nodes' controlled shutdown waits on a
        quorum that is going away, tens of seconds for data nobody keeps."""
        for node in self.nodes:
            if not graceful and node.running():
                node.signal(signal.SIGKILL)
            node.stop()
