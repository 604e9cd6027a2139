"""Kafka broker factory and topic management.

Every topic is created explicitly with a fixed partition count before any client starts; clients
never auto-create topics (a reconnecting client after an embedded-broker restart would otherwise
create one with the broker's default partition count and break per-key ordering).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import SERVICES, Settings

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


class TopicMismatch(RuntimeError):
    """An existing topic does not have the configured partition count."""


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def producer_options(settings: Settings) -> dict[str, Any]:
    """What every producer of a service is built with (the broker's, the relay's): acks from
    every in-sync replica, the idempotence setting, a request size above the event size limit.
    Linger and batch size are the client's defaults (0 ms, 16 KiB) in both."""
    return {
        "client_id": f"roofline-{settings.service}",
        "acks": "all",
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "enable_idempotence": settings.kafka_enable_idempotence,
        "max_request_size": settings.max_message_bytes + 64 * 1024,
    }


def create_producer(settings: Settings) -> AIOKafkaProducer:
    """A plain aiokafka producer with the broker's producer settings (not started)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, **producer_options(settings)
    )


def create_broker(settings: Settings, metrics: ServiceMetrics | None = None) -> KafkaBroker:
    middlewares = []
    if metrics is not None:
        middlewares.append(
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=settings.service)
        )
    return KafkaBroker(
        # A list: FastStream takes one string as one host, commas and all.
        settings.kafka_bootstrap_servers.split(","),
        **producer_options(settings),
        allow_auto_create_topics=False,
        middlewares=middlewares,
        logger=logging.getLogger(f"roofline.{settings.service}.kafka"),
        log_level=logging.DEBUG,
    )


def all_topics(settings: Settings, services: Iterable[str] = SERVICES) -> list[str]:
    """Every service's event topic and its dead-letter topic."""
    topics = [settings.topic(service) for service in services]
    return topics + [dlq_topic(topic) for topic in topics]


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    partitions: int,
    *,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
) -> dict[str, str]:
    """Create missing topics with ``partitions`` partitions, each replicated
    ``replication_factor`` ways (``min.insync.replicas`` as given); check existing ones have
    exactly that many partitions (``TopicMismatch`` otherwise). Returns ``created`` or
    ``exists`` per topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="roofline-admin")
    await admin.start()
    try:
        wanted = list(dict.fromkeys(topics))
        result: dict[str, str] = {}
        configs = {"min.insync.replicas": str(min_insync_replicas)} if min_insync_replicas else {}
        response = await admin.create_topics(
            [
                NewTopic(name, partitions, replication_factor, topic_configs=configs)
                for name in wanted
            ]
        )
        for name, code, message in response.topic_errors:
            if code == 0:
                result[name] = "created"
            elif code == TOPIC_ALREADY_EXISTS:
                result[name] = "exists"
            else:
                raise RuntimeError(f"cannot create topic {name}: {message} (code {code})")
        existing = [name for name, state in result.items() if state == "exists"]
        if existing:
            for description in await admin.describe_topics(existing):
                have = len(description["partitions"])
                if have != partitions:
                    # Changing the count moves keys between partitions while older events of
                    # the same aggregate still wait in the old one: never as a side effect.
                    raise TopicMismatch(
                        f"topic {description['topic']} has {have} partitions, configured "
                        f"{partitions}; set ROOFLINE_TOPIC_PARTITIONS={have} or migrate the "
                        "topic deliberately"
                    )
        return result
    finally:
        await admin.close()
