"""billing: post-install financing applications through the lender

Revision ID: billing_0005
Revises: billing_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "billing_0005"
down_revision = "billing_0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.create_table(
        "financing_applications",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("application_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("lender", sa.Text, nullable=False),
        sa.Column("lender_ref", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("offers", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("chosen_offer_id", sa.Text),
        sa.Column("payment_id", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_financing_applications_job",
        "financing_applications",
        ["tenant_id", "job_id", "created_at"],
    )
