"""tickets: weekly maintenance plans

Revision ID: tickets_0006
Revises: tickets_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "tickets_0006"
down_revision = "tickets_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("plan_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("generated_through", sa.Date),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("data", pg.JSONB, nullable=False),
    )
    op.create_index("ix_plans_to_fill", "plans", ["status", "generated_through"])


def downgrade() -> None:
    op.drop_table("plans")
