"""tickets: policy decision log and deadlines

Revision ID: tickets_0002
Revises: tickets_0001
"""

from shared.platform.storage.migrations import create_policy_tables_v1

revision = "tickets_0002"
down_revision = "tickets_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_policy_tables_v1()
