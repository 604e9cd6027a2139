"""billing: insurance claims (the summary's lines, supplements, what is left to claim and the
carrier's deadline); detailed invoices and credit notes (invoices' detail, credits, reason; the
credit notes' numbers)

Revision ID: billing_0004
Revises: billing_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "billing_0004"
down_revision = "billing_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insurance_claims",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("outstanding", sa.Numeric(12, 2), nullable=False),
        sa.Column("deadline", sa.Date),
    )
    op.create_index(
        "ix_insurance_claims_outstanding",
        "insurance_claims",
        ["deadline"],
        postgresql_where=sa.text("outstanding > 0"),
    )
    op.add_column("invoices", sa.Column("detail", pg.JSONB))
    op.add_column("invoices", sa.Column("credits", sa.Text))
    op.add_column("invoices", sa.Column("reason", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "credit_note_numbers",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credit_note_numbers")
    op.drop_column("invoices", "reason")
    op.drop_column("invoices", "credits")
    op.drop_column("invoices", "detail")
    op.drop_index("ix_insurance_claims_outstanding", table_name="insurance_claims")
    op.drop_table("insurance_claims")
