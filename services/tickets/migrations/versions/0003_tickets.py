"""tickets: service tickets, what tickets keeps of jobs, the admin routing table

Revision ID: tickets_0003
Revises: tickets_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "tickets_0003"
down_revision = "tickets_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The customers kept from leads become what tickets knows of each job.
    op.rename_table("job_customers", "past_jobs")
    for column in (
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("job_number", sa.Text),
        sa.Column("trades", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("crew_id", sa.Text),
        sa.Column("crew_name", sa.Text),
    ):
        op.add_column("past_jobs", column)
    op.create_table(
        "crew_members",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("crew_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
    )
    op.create_table(
        "tickets",
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
    )
    op.create_index("ix_tickets_status", "tickets", ["tenant_id", "status"])
    op.create_index("ix_tickets_queue", "tickets", ["tenant_id", "queue"])
    op.create_index("ix_tickets_follow_up_due", "tickets", ["follow_up_due"])
    op.create_table(
        "ticket_numbers",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "admin_routing",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("admin_id", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("admin_routing", "ticket_numbers", "tickets", "crew_members"):
        op.drop_table(table)
    for column in ("crew_name", "crew_id", "trades", "job_number", "email", "phone"):
        op.drop_column("past_jobs", column)
    op.rename_table("past_jobs", "job_customers")
