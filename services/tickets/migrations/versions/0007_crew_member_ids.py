"""tickets: the members of the crew that installed each job, as jobs last named them

Revision ID: tickets_0007
Revises: tickets_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "tickets_0007"
down_revision = "tickets_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "past_jobs",
        sa.Column("crew_member_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("past_jobs", "crew_member_ids")
