"""jobs: policy decision log and deadlines

Revision ID: jobs_0002
Revises: jobs_0001
"""

from shared.platform.storage.migrations import create_policy_tables_v1

revision = "jobs_0002"
down_revision = "jobs_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_policy_tables_v1()
