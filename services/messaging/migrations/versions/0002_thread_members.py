"""messaging: thread_members (who is on each job's crew)

Revision ID: messaging_0002
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "messaging_0002"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_members",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("thread_members")
