"""billing: the accounting export (a row per document queued for QuickBooks Online: its
request id, status, attempts, last error, QuickBooks id, the document) and tickets' work orders
kept until billed

Revision ID: billing_0006
Revises: billing_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "billing_0006"
down_revision = "billing_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounting_exports",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("doc_type", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("external_id", sa.Text),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("request_id", name="uq_accounting_exports_request"),
    )
    op.create_index(
        "ix_accounting_exports_due",
        "accounting_exports",
        ["priority", "next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_accounting_exports_status",
        "accounting_exports",
        ["tenant_id", "status", "updated_at"],
    )
    op.create_table(
        "work_orders",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("work_orders")
    op.drop_index("ix_accounting_exports_status", table_name="accounting_exports")
    op.drop_index("ix_accounting_exports_due", table_name="accounting_exports")
    op.drop_table("accounting_exports")
