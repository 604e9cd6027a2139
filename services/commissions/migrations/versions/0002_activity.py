"""commissions: what commissions keeps of each job (figures, shares, release) and the released
activity (Released and Adjustment records, each with the plan and explanation that made it, and
the payout it was requested in) and the payouts

Revision ID: commissions_0002
Revises: commissions_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "commissions_0002"
down_revision = "commissions_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission_jobs",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
    )
    op.create_table(
        "released_activity",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("salesman_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("volume", sa.Numeric(12, 2), nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payout_id", sa.Text),
    )
    op.create_index(
        "ix_released_activity_job", "released_activity", ["tenant_id", "job_id", "recorded_at"]
    )
    op.create_index(
        "ix_released_activity_salesman",
        "released_activity",
        ["tenant_id", "salesman_id", "effective_on"],
    )

    op.create_table(
        "payouts",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("payout_id", sa.Text, primary_key=True),
        sa.Column("salesman_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
    )
    op.create_index("ix_payouts_salesman", "payouts", ["tenant_id", "salesman_id"])


def downgrade() -> None:
    op.drop_table("payouts")
    op.drop_table("released_activity")
    op.drop_table("commission_jobs")
