"""tickets: each tenant's end of day and the record of each day's move

Revision ID: tickets_0005
Revises: tickets_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "tickets_0005"
down_revision = "tickets_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "end_of_day_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("at", sa.Time, nullable=False),
    )
    op.create_table(
        "end_of_day_runs",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("end_of_day_runs")
    op.drop_table("end_of_day_settings")
