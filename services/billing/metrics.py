"""The billing service's own Prometheus instruments (on the service's registry): gauges refreshed
from the database every ``GAUGES_INTERVAL_S`` across tenants, so every replica reports the same
figures and a restart loses nothing; the accounting export's, whose gauge its worker reads from
the database each round."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.billing.domain.exports import EXPORT_STATUSES


class BillingMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.registry = registry

        def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"roofline_billing_{name}", text, labels, registry=registry)

        self.held_jobs = gauge("collection_holds", "Jobs whose collection is on hold.")
        self.held_balance = gauge(
            "collection_held_balance_dollars", "What the jobs on hold owe, summed."
        )
        self.escalations_open = gauge(
            "escalations_open", "Files escalated to the billing manager, not decided yet."
        )
        self.escalation_oldest_age = gauge(
            "escalation_oldest_age_seconds", "Age of the oldest open escalation (0: none)."
        )
        self.depreciation_outstanding = gauge(
            "depreciation_outstanding_dollars",
            "Recoverable depreciation on claims not yet invoiced to the carrier.",
        )
        self.depreciation_claims = gauge(
            "depreciation_deadline_claims",
            "Claims with depreciation to claim whose carrier deadline is near (the policy "
            "warned: near) or passed (escalated: passed).",
            ("when",),
        )
        self.payments = gauge("payments", "Payments recorded, by method.", ("method",))
        self.payments_amount = gauge(
            "payments_dollars", "Payments recorded, summed by method.", ("method",)
        )
        self.returned_checks_open = gauge(
            "returned_checks_open", "Returned checks not yet followed up and closed."
        )


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
