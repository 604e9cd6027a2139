"""The accounting export's Prometheus instruments (on the billing service's registry). The
gauge is read from the database by the export worker each round, across tenants, so every
replica reports the same figures."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.billing.domain.exports import EXPORT_STATUSES


class ExportMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.registry = registry
        self.exports = Gauge(
            "roofline_billing_exports",
            "Documents for the accounting system by status (pending, exported, failed, "
            "refused; all tenants).",
            ["status"],
            registry=registry,
        )
        self.failures = Counter(
            "roofline_billing_export_failures_total",
            "Exports that failed for good (refused by the accounting system, or out of "
            "attempts), per document type.",
            ["doc_type"],
            registry=registry,
        )
        self.retries = Counter(
            "roofline_billing_export_retries_total",
            "Sends that could not reach the accounting system and were deferred to try again.",
            registry=registry,
        )

    def counted(self, counts: dict[str, int]) -> None:
        for status in EXPORT_STATUSES:
            self.exports.labels(status).set(counts.get(status, 0))
