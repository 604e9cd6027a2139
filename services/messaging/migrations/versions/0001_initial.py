"""messaging: outbox, inbox, threads

Revision ID: messaging_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.platform.storage.migrations import create_platform_tables_v1

revision = "messaging_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "threads",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("threads")
    op.drop_table("inbox")
    op.drop_table("outbox")
