"""The jobs service's own Prometheus instruments (on the service's registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class JobsMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.jobs_by_milestone = Gauge(
            "roofline_jobs_by_milestone",
            "Jobs per milestone (all tenants).",
            ["milestone"],
            registry=registry,
        )
        self.jobs_by_production_status = Gauge(
            "roofline_jobs_by_production_status",
            "Approved jobs per production status (all tenants).",
            ["status"],
            registry=registry,
        )
        self.handoffs_denied = Counter(
            "roofline_jobs_handoffs_denied_total",
            "Hand-offs to production refused, by the policy rule that refused them.",
            ["policy", "rule"],
            registry=registry,
        )
        self.approval_to_scheduled = Histogram(
            "roofline_jobs_approval_to_scheduled_seconds",
            "Time from the hand-off to production to the job being scheduled.",
            buckets=(3600, 4 * 3600, 86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400),
            registry=registry,
        )
