"""The tickets schema: its tables (the repositories are beside it, by area)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from shared.platform.storage.db import PlatformTables
from shared.platform.storage.queries import counter_table
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

past_jobs = sa.Table(
    "past_jobs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("job_number", sa.Text),
    sa.Column("trades", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("crew_id", sa.Text),
    sa.Column("crew_name", sa.Text),
    sa.Column("crew_member_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

crew_members = sa.Table(
    "crew_members",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("crew_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("ticket_number", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("queue", sa.Text),
    sa.Column("follow_up_due", sa.Date),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text),
    sa.Column("technician_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("crew_id", sa.Text),
    sa.Column("start_date", sa.Date),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Index("ix_tickets_status", "tenant_id", "status"),
    sa.Index("ix_tickets_queue", "tenant_id", "queue"),
    sa.Index("ix_tickets_follow_up_due", "follow_up_due"),
)

ticket_numbers = counter_table("ticket_numbers", metadata)

admin_routing = sa.Table(
    "admin_routing",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),  # a trade or a product
    sa.Column("admin_id", sa.Text, nullable=False),
)


technicians = sa.Table(
    "technicians",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("daily_visits", sa.Integer),
)

ticket_visits = sa.Table(
    "ticket_visits",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("technician_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Index("ix_ticket_visits_day", "tenant_id", "technician_id", "day"),
)


end_of_day_settings = sa.Table(
    "end_of_day_settings",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("at", sa.Time, nullable=False),
)

end_of_day_runs = sa.Table(
    "end_of_day_runs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("moved", sa.Integer, nullable=False, server_default="0"),
)


plans = sa.Table(
    "plans",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("generated_through", sa.Date),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Index("ix_plans_to_fill", "status", "generated_through"),
)
