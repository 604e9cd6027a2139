"""Settings from the environment (prefix ``ROOFLINE_``), with per-service overrides.

``ROOFLINE_DATABASE_URL`` applies to every service; ``ROOFLINE_BILLING__DATABASE_URL`` applies to
the billing service only and wins over the shared value. The same double-underscore form works for
every field, so one service can run on its own Postgres or with its own batch size.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public, so anyone can mint tokens with it: fine on a laptop, never in a deployment. Services
# log a warning at start while it is in use.
DEV_JWT_SECRET = "roofline-development-secret-change-me"
DEV_WEBHOOK_KEY = "roofline-development-webhook-key-change-me"
DEV_LINK_KEY = "roofline-development-link-key-change-me"

SERVICES: tuple[str, ...] = ("jobs", "tickets", "billing", "messaging", "commissions")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOFLINE_", extra="ignore")

    service: str = Field("roofline", description="Name of the service these settings are for.")

    # Servers. Unset means "use the embedded default" (``roofline up`` fills them in).
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/roofline"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Idempotent producer: on for a real Kafka (a timed-out batch can otherwise be overtaken by
    # the next one for the same partition). The embedded Tansu broker rejects InitProducerId, so
    # `roofline up`, the tests and the benchmark turn it off for it.
    kafka_enable_idempotence: bool = True
    data_dir: Path = Path(".roofline")

    # Topics: roofline.<service>.events (and .dlq), created up front with a fixed partition count.
    topic_prefix: str = "roofline"
    topic_partitions: int = Field(6, ge=1)
    # Copies of each partition (1 on the embedded broker; 3 on a Kafka cluster), and how many
    # must have a write before acks=all answers (None: the broker's default).
    topic_replication_factor: int = Field(1, ge=1)
    topic_min_insync_replicas: int | None = Field(None, ge=1)
    # Application-level limit: the embedded broker enforces none, a real Kafka defaults to ~1 MB.
    max_message_bytes: int = Field(900_000, ge=1024)

    # Database schema this service owns; defaults to the service name.
    db_schema: str | None = None
    db_pool_size: int = Field(10, ge=1)
    # Longest a service's statement may run before the driver gives up on it: turns a half-open
    # connection into an error that is retried (migrations run without it).
    db_command_timeout_s: float = Field(60.0, gt=0)

    # Outbox relay.
    relay_batch_size: int = Field(500, ge=1)
    relay_poll_interval_s: float = Field(1.0, gt=0)
    outbox_retention: timedelta = timedelta(days=7)

    # Consumers.
    consumer_max_records: int = Field(500, ge=1)
    # How long one poll waits for records. FastStream's batch subscriber sleeps as long again
    # after an empty poll, so on a quiet topic an event can wait up to this much more: 200 cost
    # 70-90 ms p50 at 4 events/s. An empty poll reads aiokafka's buffer only (no request).
    consumer_batch_timeout_ms: int = Field(20, ge=1)
    # Longest the broker may hold a fetch when no data is ready. Apache Kafka answers as soon as
    # data arrives; the embedded broker only at the end of the wait, so `roofline up` runs its
    # services with a shorter one (EmbeddedBroker.CONSUMER_FETCH_MAX_WAIT_MS).
    consumer_fetch_max_wait_ms: int = Field(100, ge=1)
    consumer_max_attempts: int = Field(5, ge=1)
    consumer_retry_backoff_s: float = Field(0.2, gt=0)
    consumer_retry_backoff_max_s: float = Field(5.0, gt=0)
    # A batch held longer than this while the database is down is handed back to Kafka
    # (seek back) so the consumer keeps polling and never exceeds max_poll_interval_ms.
    consumer_transient_budget_s: float = Field(60.0, gt=0)
    # Not making progress: this many batches in a row handed back without one applied makes the
    # consumer not ready (and its next delivery applied one event at a time, so a record that
    # keeps failing in a way that looks transient is dead-lettered after consumer_max_attempts);
    # so does one batch in flight longer than consumer_stall_after_s (a handler that hangs).
    consumer_stall_handbacks: int = Field(3, ge=1)
    consumer_stall_after_s: float = Field(300.0, gt=0)
    # How long a send may wait for the broker before it fails (and the relay retries it later);
    # also bounds how long a stopping service waits on an unreachable broker.
    kafka_request_timeout_ms: int = Field(10_000, ge=1000)
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000

    # Auth.
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "roofline"
    token_ttl: timedelta = timedelta(hours=12)

    # Policy layer: the rule files a service decides with, reloaded when they change.
    policy_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parents[2] / "policies"
    )
    policy_reload_interval_s: float = Field(1.0, gt=0)
    # Commissions: the tenants' commission plan files, one folder per tenant.
    commission_plans_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parents[2] / "commission_plans"
    )
    # Business days for deadlines: a country, or country-state, code of the `holidays` package
    # ("US", "US-TX", "CA-ON"); per tenant in tenant_calendars ({"acme": "US-TX"}).
    calendar: str = "US"
    tenant_calendars: dict[str, str] = Field(default_factory=dict)
    deadline_sweep_interval_s: float = Field(30.0, gt=0)

    # Email (messaging): the SMTP server it hands mail to, and how it retries.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Roofline <roofline@localhost>"
    smtp_timeout_s: float = Field(30.0, gt=0)
    email_send_interval_s: float = Field(1.0, gt=0)
    email_max_attempts: int = Field(8, ge=1)
    email_retry_backoff_s: float = Field(30.0, gt=0)
    # Longest one send may take; an email still "sending" past it was cut off mid-send (a
    # crash): it is held in doubt, never sent again by itself.
    email_lease_s: float = Field(120.0, gt=0)
    # Where the messaging service is reached from outside (links in emails: surveys, the open
    # pixel); `roofline up` sets it to the running service's address.
    public_url: str = "http://127.0.0.1:8000"
    # The key the email provider signs its delivery webhooks with (delivered, bounced, opened),
    # and how old a signed post may be before it is refused as a replay.
    email_webhook_signing_key: SecretStr = SecretStr(DEV_WEBHOOK_KEY)
    email_webhook_tolerance_s: float = Field(900.0, gt=0)
    # Links in emails (survey links, the open pixel) are signed with this key; a survey link is
    # valid this long.
    link_signing_key: SecretStr = SecretStr(DEV_LINK_KEY)
    survey_link_valid_days: int = Field(30, ge=1)
    # A client's read time is trusted within this much of the server's clock.
    client_clock_skew_s: float = Field(120.0, ge=0)
    # The live stream (SSE): how often it looks for new events, and a keep-alive comment.
    sse_poll_interval_s: float = Field(0.5, gt=0)
    sse_heartbeat_s: float = Field(15.0, gt=0)
    # Billing checks open insurance claims against the carriers' depreciation deadlines this
    # often (the warning and the escalation are told once each, whenever the check runs).
    depreciation_watch_interval_s: float = Field(3600.0, gt=0)

    # Post-install financing (billing): the lender's API (a Hearth-like one), the key it is
    # called with and the name the customer knows it by. No URL: applications are refused.
    lender_url: str | None = None
    lender_api_key: SecretStr | None = None
    lender_name: str = "Hearth"
    lender_timeout_s: float = Field(10.0, gt=0)

    # Accounting export (billing) to QuickBooks Online: the API's base URL
    # (https://quickbooks.api.intuit.com, or the sandbox's); unset, export is off and documents
    # wait, pending. The company (realm) id, an OAuth access token, the API's minor version, and
    # the QuickBooks Item (product or service) invoice lines are booked to ("1": Services).
    quickbooks_url: str | None = None
    quickbooks_realm_id: str = ""
    quickbooks_token: SecretStr = SecretStr("")
    quickbooks_minor_version: int = Field(75, ge=1)
    quickbooks_item_id: str = "1"
    quickbooks_timeout_s: float = Field(30.0, gt=0)
    # The export worker: how often it looks for due documents and how many it sends a round;
    # the first wait after a failed send (doubling, up to the max) and the attempts before a
    # document fails; how long one send may take before it is due again (a crash mid-send).
    accounting_export_interval_s: float = Field(5.0, gt=0)
    accounting_export_batch: int = Field(50, ge=1)
    accounting_export_backoff_s: float = Field(30.0, gt=0)
    accounting_export_backoff_max_s: float = Field(3600.0, gt=0)
    accounting_export_max_attempts: int = Field(10, ge=1)
    accounting_export_lease_s: float = Field(120.0, gt=0)

    # Garbage collector: once a service has started, what it built (modules, schemas, pools) is
    # frozen out of collection, and a young-generation collection runs every this many
    # allocations instead of CPython's 700 (0 keeps CPython's). Measured with bench/bus.py: the
    # collector took about a quarter of a busy consumer's time.
    gc_gen0_threshold: int = Field(50_000, ge=0)

    log_level: str = "INFO"

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service

    def topic(self, service: str) -> str:
        return f"{self.topic_prefix}.{service}.events"

    @property
    def own_topic(self) -> str:
        return self.topic(self.service)

    @property
    def consumer_group(self) -> str:
        return f"{self.topic_prefix}.{self.service}"


def load_settings(service: str | None = None, **overrides: Any) -> Settings:
    """Settings for ``service``: shared ``ROOFLINE_X`` values, then ``ROOFLINE_<SERVICE>__X``."""
    values: dict[str, Any] = {}
    if service:
        prefix = f"ROOFLINE_{service.upper()}__"
        fields = {name.upper(): name for name in Settings.model_fields}
        for key, value in os.environ.items():
            if key.upper().startswith(prefix):
                field = fields.get(key.upper()[len(prefix) :])
                if field:
                    values[field] = value
        values["service"] = service
    values.update(overrides)
    return Settings(**values)
