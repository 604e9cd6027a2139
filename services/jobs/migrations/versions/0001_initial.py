"""jobs: outbox, inbox, jobs, acknowledgements

Revision ID: jobs_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.platform.storage.migrations import create_platform_tables_v1

revision = "jobs_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "jobs",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("customer_name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("property_address", sa.Text, nullable=False),
        sa.Column("salesman_id", sa.Text, nullable=False),
        sa.Column("milestone", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "job_acknowledgements",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("service", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_acknowledgements")
    op.drop_table("jobs")
    op.drop_table("inbox")
    op.drop_table("outbox")
