"""The tickets service's own Prometheus instruments (on the service's registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DAY = 86400.0


class TicketsMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.registry = registry
        self.open_tickets = Gauge(
            "roofline_tickets_open",
            "Tickets not yet complete, declined or canceled, per queue (none: in no queue), type "
            "and status (all tenants).",
            ["queue", "type", "status"],
            registry=registry,
        )
        self.follow_ups_overdue = Gauge(
            "roofline_tickets_follow_ups_overdue",
            "Follow-up calls whose day has passed, not yet counted missed (all tenants).",
            registry=registry,
        )
        self.first_visit_to_approval = Histogram(
            "roofline_tickets_first_visit_to_approval_seconds",
            "From a ticket's first visit to the customer approving on a follow-up call.",
            buckets=(DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 60 * DAY),
            registry=registry,
        )
        self.bookings_refused = Counter(
            "roofline_tickets_bookings_refused_total",
            "Visit bookings refused because a technician's day was full.",
            registry=registry,
        )
        self.end_of_day_moved = Counter(
            "roofline_tickets_end_of_day_moved_total",
            "Follow-ups moved to the next business day by the end-of-day reassignment.",
            registry=registry,
        )
