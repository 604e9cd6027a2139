"""billing: policy decision log and deadlines

Revision ID: billing_0002
Revises: billing_0001
"""

from shared.platform.storage.migrations import create_policy_tables_v1

revision = "billing_0002"
down_revision = "billing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_policy_tables_v1()
