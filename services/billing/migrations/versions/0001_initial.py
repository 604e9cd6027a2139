"""billing: outbox, inbox, finance folders

Revision ID: billing_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.platform.storage.migrations import create_platform_tables_v1

revision = "billing_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "finance_folders",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("customer_name", sa.Text, nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("finance_folders")
    op.drop_table("inbox")
    op.drop_table("outbox")
