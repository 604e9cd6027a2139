"""One Prometheus registry per service, with the platform's own instruments.

FastStream's Kafka middleware adds its consume/publish metrics to the same registry, so one
``/metrics`` endpoint shows everything about a service.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Histogram(
            "roofline_http_request_duration_seconds",
            "HTTP request latency by route, method and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "roofline_outbox_backlog", "Outbox rows not yet published.", registry=r
        )
        self.outbox_oldest_unsent_age = Gauge(
            "roofline_outbox_oldest_unsent_age_seconds",
            "Age of the oldest unpublished outbox row (0 when empty).",
            registry=r,
        )
        self.outbox_published = Counter(
            "roofline_outbox_published_total", "Outbox rows published and acked.", registry=r
        )
        self.relay_leader = Gauge(
            "roofline_relay_leader", "1 while this process holds the relay leadership.", registry=r
        )
        self.events_applied = Counter(
            "roofline_events_applied_total",
            "Consumed events whose effects committed.",
            ["topic", "type"],
            registry=r,
        )
        self.inbox_duplicates = Counter(
            "roofline_inbox_duplicates_total",
            "Redelivered or republished events the inbox absorbed.",
            ["topic"],
            registry=r,
        )
        self.dead_letters = Counter(
            "roofline_dlq_messages_total",
            "Messages sent to the dead-letter topic, by original topic and reason.",
            ["topic", "reason"],
            registry=r,
        )
        self.consumer_retries = Counter(
            "roofline_consumer_retries_total",
            "Batch retries, by kind (transient: database/broker down; failure: handler error).",
            ["topic", "kind"],
            registry=r,
        )
        self.batches_handed_back = Counter(
            "roofline_consumer_batches_handed_back_total",
            "Batches sought back for Kafka to deliver again (the database stayed down past the "
            "batch's time budget, or the batch failed unexpectedly).",
            ["topic"],
            registry=r,
        )
        self.consumer_handbacks_in_a_row = Gauge(
            "roofline_consumer_handbacks_in_a_row",
            "Batches handed back since the consumer last applied one (0 while it makes progress).",
            ["consumer"],
            registry=r,
        )
        self.consumer_stalled = Gauge(
            "roofline_consumer_stalled",
            "1 while the consumer is not getting through its records (readiness says why).",
            ["consumer"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "roofline_consumer_lag",
            "Messages behind the partition's high watermark.",
            ["topic", "partition"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
