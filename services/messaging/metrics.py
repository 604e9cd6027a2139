"""The messaging service's own Prometheus instruments (on the service's registry). Counters move
as things happen; the gauges are refreshed from the database every ``STATS_INTERVAL_S`` across
tenants, so every replica reports the same figures."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class MessagingMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.registry = registry
        self.messages_posted = Counter(
            "roofline_messaging_messages_posted_total",
            "Messages posted, per kind of thread (job, ticket, direct).",
            ["kind"],
            registry=registry,
        )
        self.unread_oldest_age = Gauge(
            "roofline_messaging_unread_oldest_age_seconds",
            "Age of the oldest message not yet read by a participant, per role (installer, "
            "technician, office). 0: nothing unread.",
            ["role"],
            registry=registry,
        )
        self.emails = Gauge(
            "roofline_messaging_emails",
            "Emails by state (queued, sending, sent, failed, in_doubt, bounced; all tenants).",
            ["status"],
            registry=registry,
        )
        self.send_retries = Counter(
            "roofline_messaging_email_retries_total",
            "Sends that failed and were deferred to try again.",
            registry=registry,
        )
        self.bounces = Counter(
            "roofline_messaging_email_bounces_total",
            "Hard bounces reported by the email provider (the address gets nothing more).",
            registry=registry,
        )
        self.notifications = Counter(
            "roofline_messaging_notifications_delivered_total",
            "Inbox items delivered for the policy layer's notify, escalate and passed deadlines, "
            "per policy rule (policy/rule).",
            ["rule"],
            registry=registry,
        )
        self.survey_response_ratio = Gauge(
            "roofline_messaging_survey_response_ratio",
            "Surveys answered over surveys sent (their send time passed), all tenants.",
            registry=registry,
        )
        self.survey_rating_average = Gauge(
            "roofline_messaging_survey_rating_average",
            "Average overall rating (1-5) of answered surveys, all tenants; 0: none yet.",
            registry=registry,
        )
