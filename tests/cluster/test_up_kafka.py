"""`roofline up --broker kafka --replicas tickets=2` as a user runs it: the whole suite on a local
3-broker Apache Kafka cluster (topics replicated 3 ways, min.insync.replicas=2, idempotent
producer), tickets scaled out to two processes in its one consumer group, status naming the broker,
each node's state and each replica, a lead answered by the four other services, and a clean Ctrl-C
that leaves no broker behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.cli.embedded import port_open
from shared.platform.http.auth import mint_token
from shared.platform.settings import load_settings
from tests.e2e.test_roofline_up import ROOT, answered, create_lead, status, wait_for


async def replication(bootstrap: str, topic: str) -> tuple[int, str]:
    """The topic's replica count and its min.insync.replicas, as the cluster reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        entries = response.resources[0][4]
        min_isr = next(entry[1] for entry in entries if entry[0] == "min.insync.replicas")
        return len(description["partitions"][0]["replicas"]), min_isr
    finally:
        await admin.close()


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        (description,) = response.to_object()["groups"]
        return len(description["members"])
    finally:
        await admin.close()


def test_up_on_a_local_kafka_cluster(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ROOFLINE_DATABASE_URL", "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS")
    }
    command = ["up", "--data-dir", str(tmp_path), "--broker", "kafka", "--brokers", "3"]
    command += ["--replicas", "tickets=2"]
    up = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    report: dict = {}
    try:
        report = wait_for(lambda: status(tmp_path), timeout=300, what="the suite on Kafka ready")
        broker = report["broker"]
        assert broker["kind"] == "kafka"
        assert [(n["node_id"], n["state"]) for n in broker["brokers"]] == [
            (1, "running"),
            (2, "running"),
            (3, "running"),
        ]
        bootstrap = report["kafka_bootstrap_servers"]
        topic = load_settings("jobs").topic("jobs")
        assert asyncio.run(replication(bootstrap, topic)) == (3, "2")

        replicas = [(s["name"], s["replica"], s["state"]) for s in report["services"]]
        assert [r for r in replicas if r[0] == "tickets"] == [
            ("tickets", 1, "ready"),
            ("tickets", 2, "ready"),
        ]
        tickets_group = load_settings("tickets").consumer_group
        assert wait_for(
            lambda: asyncio.run(group_members(bootstrap, tickets_group)) == 2 or None,
            timeout=60,
            what="both tickets processes in its consumer group",
        )

        urls = {s["name"]: s["url"] for s in report["services"] if s["replica"] == 1}
        token = mint_token(load_settings(), user="sam", tenant="acme", roles=["sales"])
        headers = {"Authorization": f"Bearer {token}"}
        job = create_lead(urls, headers)
        body = answered(urls, headers, job, "the four other services to answer the lead")
        assert sorted(body["acknowledged_by"]) == ["billing", "commissions", "messaging", "tickets"]
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=120)
    assert up.returncode == 0, output
    assert "local Apache Kafka cluster" in output
    nodes = [n["address"].rsplit(":", 1) for n in report.get("broker", {}).get("brokers", [])]
    assert nodes and not [host for host, port in nodes if port_open(host, int(port))]
