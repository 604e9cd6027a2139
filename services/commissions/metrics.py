"""The commissions service's own Prometheus instruments (on the service's registry): gauges read
from the database across tenants every ``GAUGES_INTERVAL_S`` (every replica reports the same), and
a counter of plan evaluations that failed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class CommissionsMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.registry = registry
        self.amounts = Gauge(
            "roofline_commissions_amount_dollars",
            "Released and adjusted commission amounts, per month effective (YYYY-MM) and kind "
            "(released, adjustment), this year and last; all tenants.",
            ["month", "kind"],
            registry=registry,
        )
        self.payouts_pending = Gauge(
            "roofline_commissions_payouts_pending_approval",
            "Payouts requested and not approved yet.",
            registry=registry,
        )
        self.advances_outstanding = Gauge(
            "roofline_commissions_advances_outstanding_dollars",
            "Advances drawn on jobs not released yet.",
            registry=registry,
        )
        self.evaluation_errors = Counter(
            "roofline_commissions_plan_evaluation_errors_total",
            "Jobs that could not be evaluated (no plan applies to the salesman that day, ...), "
            "per error.",
            ["error"],
            registry=registry,
        )
